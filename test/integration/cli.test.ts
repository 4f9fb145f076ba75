import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, spawnNode, type NodeProcess } from '../support/process.js'
import { TestClient } from '../support/ws-client.js'

let dir: string
const spawned: NodeProcess[] = []

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wshub-cli-'))
})
after(() => {
  for (const proc of spawned) if (proc.child.exitCode === null) proc.child.kill('SIGKILL')
  rmSync(dir, { recursive: true, force: true })
})

async function spawn(env: Record<string, string>, args: string[] = []): Promise<NodeProcess> {
  const proc = await spawnNode(env, args)
  spawned.push(proc)
  return proc
}

describe('wshub (the CLI)', () => {
  it('exits 2 naming http.port when WSHUB_HTTP_PORT is out of range', async () => {
    const { code, stderr } = await runCli({ WSHUB_HTTP_PORT: '99999' })
    assert.equal(code, 2)
    assert.match(stderr, /http\.port/)
  })

  it('exits 2 naming the key of a bad value in the config file', async () => {
    const file = join(dir, 'bad.yaml')
    writeFileSync(file, 'rooms:\n  history_size: lots\n')
    const { code, stderr } = await runCli({}, ['--config', file])
    assert.equal(code, 2)
    assert.match(stderr, /rooms\.history_size/)
  })

  for (const [name, value, key] of [
    ['WSHUB_WS_PATH', 'noslash', 'ws.path'],
    ['WSHUB_HTTP_HOST', 'not_a_host!', 'http.host'],
    ['WSHUB_HTTP_ADMIN_ADDRESS', 'garbage', 'http.admin_address'],
    ['WSHUB_AUTH_JWKS_URL', 'http://idp.example.com/.well-known/jwks.json', 'auth.jwks_url'],
    ['WSHUB_AUTH_MAX_CONNECTIONS_PER_USER', '-3', 'auth.max_connections_per_user'],
    ['WSHUB_CLUSTER_NATS_REPLICAS', '9', 'cluster.nats.replicas'],
    ['WSHUB_CLUSTER_REDIS_SENTINELS', 'no-port', 'cluster.redis.sentinels'],
  ] as const) {
    it(`exits 2 naming ${key} when ${name}=${value}`, async () => {
      const { code, stderr } = await runCli({ [name]: value })
      assert.equal(code, 2, stderr)
      assert.match(stderr, new RegExp(key.replaceAll('.', '\\.')))
    })
  }

  it('exits 2 naming http.host and the address when no interface has it', async () => {
    // 192.0.2.1 is TEST-NET-1 (RFC 5737): never an address of this machine.
    const { code, stderr } = await runCli({ WSHUB_HTTP_HOST: '192.0.2.1' })
    assert.equal(code, 2, stderr)
    assert.match(stderr, /http\.host: cannot listen on 192\.0\.2\.1:0: .*EADDRNOTAVAIL/)
  })

  it('exits 1 naming http.port and the address when the port is taken', async () => {
    const holder = await spawn({})
    const { code, stderr } = await runCli({ WSHUB_HTTP_PORT: String(holder.port) })
    holder.child.kill('SIGTERM')
    assert.equal(code, 1, stderr)
    assert.match(stderr, new RegExp(`http\\.port: cannot listen on 127\\.0\\.0\\.1:${holder.port}: .*EADDRINUSE`))
  })

  it('exits 1 naming http.admin_address when the admin port is taken', async () => {
    const holder = await spawn({})
    const { code, stderr } = await runCli({ WSHUB_HTTP_ADMIN_ADDRESS: `127.0.0.1:${holder.port}` })
    holder.child.kill('SIGTERM')
    assert.equal(code, 1, stderr)
    assert.match(stderr, /http\.admin_address: cannot listen on .*EADDRINUSE/)
  })

  it('exits 2 naming the file when the config file does not exist', async () => {
    const missing = join(dir, 'missing.yaml')
    const { code, stderr } = await runCli({}, ['--config', missing])
    assert.equal(code, 2)
    assert.ok(stderr.includes(missing), stderr)
  })

  it('exits 2 on an unknown option, with the usage', async () => {
    const { code, stderr } = await runCli({}, ['--bogus'])
    assert.equal(code, 2)
    assert.match(stderr, /usage: wshub/)
  })

  it('starts with the defaults alone, logging listening with the port it picked', async () => {
    const proc = await spawn({})
    assert.ok(proc.port > 0)
    const listening = proc.lines.find((l) => l.msg === 'listening')!
    assert.equal(listening.path, '/ws')
    assert.equal(listening.bus, 'memory')
    const client = await TestClient.connect(`ws://127.0.0.1:${proc.port}/ws`)
    assert.equal(client.welcome.message_type, 'welcome')
    client.socket.terminate()
    proc.child.kill('SIGTERM')
    assert.equal(await proc.exited, 0)
  })

  it('logs the admin listener\'s address in the listening line when http.admin_address picks a free port', async () => {
    const proc = await spawn({ WSHUB_HTTP_ADMIN_ADDRESS: '127.0.0.1:0', WSHUB_HTTP_ADMIN_TOKEN: 'cli-admin' })
    const listening = proc.lines.find((l) => l.msg === 'listening')!
    assert.equal(listening.admin_host, '127.0.0.1')
    assert.ok(typeof listening.admin_port === 'number' && listening.admin_port > 0 && listening.admin_port !== proc.port, JSON.stringify(listening))
    const stats = await fetch(`http://127.0.0.1:${listening.admin_port}/api/stats`, { headers: { authorization: 'Bearer cli-admin' } })
    assert.equal(stats.status, 200)
    proc.child.kill('SIGTERM')
    assert.equal(await proc.exited, 0)
  })

  it('reads --config file.yaml, with the environment winning over it', async () => {
    const file = join(dir, 'node.yaml')
    writeFileSync(file, 'ws:\n  path: /from-yaml\ncluster:\n  node_id: yaml-node\nheartbeat:\n  interval_ms: 5000\n')
    const proc = await spawn({ WSHUB_HEARTBEAT_INTERVAL_MS: '7000' }, ['--config', file])
    const client = await TestClient.connect(`ws://127.0.0.1:${proc.port}/from-yaml`)
    assert.equal(client.welcome.data.node_id, 'yaml-node')
    assert.equal(client.welcome.data.heartbeat_ms, 7000)
    client.socket.terminate()
    proc.child.kill('SIGTERM')
    assert.equal(await proc.exited, 0)
  })

  it('reads a JSON config file', async () => {
    const file = join(dir, 'node.json')
    writeFileSync(file, JSON.stringify({ cluster: { node_id: 'json-node' } }))
    const proc = await spawn({}, ['--config', file])
    const client = await TestClient.connect(`ws://127.0.0.1:${proc.port}/ws`)
    assert.equal(client.welcome.data.node_id, 'json-node')
    client.socket.terminate()
    proc.child.kill('SIGTERM')
    assert.equal(await proc.exited, 0)
  })

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`drains on ${signal}: a connected client gets close 1001 and the process exits 0`, async () => {
      const proc = await spawn({})
      const client = await TestClient.connect(`ws://127.0.0.1:${proc.port}/ws`)
      proc.child.kill(signal)
      assert.equal((await client.waitClose(10_000)).code, 1001)
      assert.equal(await proc.exited, 0)
    })
  }

  it('logs per-frame lines with WSHUB_LOG_LEVEL=debug', async () => {
    const proc = await spawn({ WSHUB_LOG_LEVEL: 'debug' })
    const client = await TestClient.connect(`ws://127.0.0.1:${proc.port}/ws`)
    await client.request('ping')
    await proc.waitForLog((l) => l.msg === 'frame in' && l.message_type === 'ping' && l.client_id === client.id)
    await proc.waitForLog((l) => l.msg === 'frame out' && l.message_type === 'pong' && l.client_id === client.id)
    client.socket.terminate()
    proc.child.kill('SIGTERM')
    assert.equal(await proc.exited, 0)
  })
})
