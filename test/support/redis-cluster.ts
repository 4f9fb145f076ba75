/**
 * A real Redis Cluster for tests: 3 masters and 3 replicas (`redis-server
 * --cluster-enabled yes`, joined by `redis-cli --cluster create --cluster-replicas 1`),
 * on free loopback ports, each stopped by its PID. A node timeout of 1 s makes a replica
 * take over a killed master within a few seconds. Start it once per test file.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { findBinary, freePort, Service } from './services.js'

const run = promisify(execFile)

/** The `redis-cli` beside the `redis-server` the tests use (or on the PATH). */
export function redisCli(): string {
  const server = findBinary('redis')
  if (server === null) throw new Error('redis-server not installed: apt-get install -y redis-server')
  return join(dirname(server), 'redis-cli')
}

/** Runs `redis-cli -p <port> <args>` and answers its output. */
export async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run(redisCli(), ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: 10_000 })
  return stdout
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    try {
      if (await check()) return
    } catch {}
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

export class RedisCluster {
  private constructor(readonly nodes: Service[]) {}

  /** `host:port` of every node, for `cluster.redis.nodes`. */
  get addresses(): string[] {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`)
  }

  static async start(): Promise<RedisCluster> {
    const nodes: Service[] = []
    try {
      for (let i = 0; i < 6; i++) {
        const port = await freePort()
        const dir = mkdtempSync(join(tmpdir(), 'wshub-rcluster-'))
        const args = [
          '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
          '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf'),
          '--cluster-node-timeout', '1000', '--cluster-replica-validity-factor', '0',
        ]
        const node = new Service('redis', port, args, dir)
        nodes.push(node)
        await node.start()
      }
      const cluster = new RedisCluster(nodes)
      await run(redisCli(), ['--cluster', 'create', ...cluster.addresses, '--cluster-replicas', '1', '--cluster-yes'], { timeout: 30_000 })
      await cluster.waitHealthy()
      return cluster
    } catch (err) {
      await Promise.all(nodes.map((n) => n.close()))
      throw err
    }
  }

  /** Waits until every running node says the cluster is ok and every master has a replica in sync. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor('cluster_state:ok on every node', async () => {
      for (const node of this.nodes) {
        if (node.pid === null) continue
        if (!(await cli(node.port, 'cluster', 'info')).includes('cluster_state:ok')) return false
      }
      return true
    }, timeoutMs)
    await waitFor('a replica in sync for every master', async () => {
      const masters = await this.masters()
      if (masters.length !== 3) return false
      for (const port of masters) {
        const info = await cli(port, 'info', 'replication')
        if (!/connected_slaves:[1-9]/.test(info) || !/slave0:.*state=online/.test(info)) return false
      }
      return true
    }, timeoutMs)
  }

  /** Ports of the masters that serve slots now, as a running node sees them. */
  async masters(): Promise<number[]> {
    const from = this.nodes.find((n) => n.pid !== null)!
    const out = await cli(from.port, 'cluster', 'nodes')
    return out
      .split('\n')
      .filter((line) => line.includes('master') && !line.includes('fail') && line.split(' ').length > 8)
      .map((line) => Number(line.split(' ')[1]!.split('@')[0]!.split(':')[1]))
  }

  /** The node that is master of the slot of `key` (a key or a sharded channel) now. */
  async masterOf(key: string): Promise<Service> {
    const from = this.nodes.find((n) => n.pid !== null)!
    const slot = Number((await cli(from.port, 'cluster', 'keyslot', key)).trim())
    const out = await cli(from.port, 'cluster', 'nodes')
    for (const line of out.split('\n')) {
      const fields = line.split(' ')
      if (!fields[2]?.includes('master') || fields[2].includes('fail')) continue
      for (const range of fields.slice(8)) {
        const [lo, hi = lo] = range.split('-').map(Number)
        if (slot >= lo! && slot <= hi!) {
          const port = Number(fields[1]!.split('@')[0]!.split(':')[1])
          return this.nodes.find((n) => n.port === port)!
        }
      }
    }
    throw new Error(`no master serves slot ${slot}`)
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.close()))
  }
}
