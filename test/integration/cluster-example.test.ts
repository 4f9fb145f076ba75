/**
 * examples/cluster: the three configs start a working cluster on NATS, and on Redis with
 * WSHUB_CLUSTER_BUS=redis (pointed at this file's servers, on free ports), and the
 * example client talks across nodes.
 */
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { resolve } from 'node:path'
import { promisify } from 'node:util'
import { useBackend } from '../support/backends.js'
import { skipUnless, testPrefix } from '../support/services.js'
import { repoRoot, spawnNode, type NodeProcess } from '../support/process.js'

const run = promisify(execFile)

for (const name of ['nats', 'redis'] as const) {
  describe(`configs/cluster-node{1,2,3}.yaml on ${name}`, { skip: skipUnless(name) }, () => {
    const backend = useBackend(name)
    const nodes: NodeProcess[] = []
    after(async () => {
      for (const node of nodes) node.child.kill('SIGTERM')
      await Promise.all(nodes.map((node) => node.exited))
    })

    it('start three nodes that carry room and direct messages between each other', async () => {
      const prefix = testPrefix()
      const env = {
        WSHUB_CLUSTER_PREFIX: prefix,
        WSHUB_LOG_FORMAT: 'json',
        ...(name === 'redis' ? { WSHUB_CLUSTER_BUS: 'redis', WSHUB_CLUSTER_REDIS_URL: backend.service!.url } : { WSHUB_CLUSTER_NATS_SERVERS: backend.service!.url }),
      }
      for (const i of [1, 2, 3]) nodes.push(await spawnNode(env, ['--config', resolve(repoRoot, `configs/cluster-node${i}.yaml`)]))
      const script = resolve(repoRoot, 'dist/examples/cluster/across-nodes.js')
      const { stdout } = await run(process.execPath, [script, `ws://127.0.0.1:${nodes[0]!.port}/ws`, `ws://127.0.0.1:${nodes[2]!.port}/ws`], { timeout: 10_000 })
      assert.match(stdout, /alice is node1\.\S+ on node1; bob is node3\.\S+ on node3/)
      assert.match(stdout, /bob got \{"room_id":"lobby","content":"hello from the other node"/)
      assert.match(stdout, /bob got \{"content":"just for you"/)
    })
  })
}
