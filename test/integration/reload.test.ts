import { describe, it, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { spawnNode, type NodeProcess } from '../support/process.js'
import { startNode, type TestNode } from '../support/node.js'
import { TestClient } from '../support/ws-client.js'
import { resolveConfig } from '../../lib/config.js'

const REFUSED = 'config reload refused; the running configuration stays'

function frameIn(id: string) {
  return (line: Record<string, unknown>) => line.msg === 'frame in' && line.message_id === id
}

describe('SIGHUP to the CLI node', () => {
  let dir: string
  let file: string
  let node: NodeProcess
  let client: TestClient

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wshub-reload-'))
    file = join(dir, 'wshub.yaml')
    writeFileSync(file, 'log:\n  level: info\n')
    node = await spawnNode({}, ['--config', file])
    client = await TestClient.connect(`ws://127.0.0.1:${node.port}/ws`)
  })

  afterEach(async () => {
    client.socket.terminate()
    node.child.kill('SIGTERM')
    await node.exited
    rmSync(dir, { recursive: true, force: true })
  })

  it('turns per-frame debug logging on while a client stays connected', async () => {
    assert.equal((await client.request('ping', {}, 'before')).message_type, 'pong')
    writeFileSync(file, 'log:\n  level: debug\n')
    node.child.kill('SIGHUP')
    const reloaded = await node.waitForLog((l) => l.msg === 'config reloaded', 10000)
    assert.deepEqual(reloaded.applied, ['log.level'])
    assert.equal((await client.request('ping', {}, 'after')).message_type, 'pong')
    await node.waitForLog(frameIn('after'), 10000)
    assert.equal(node.lines.some(frameIn('before')), false)
    assert.equal(client.closed, null)
  })

  it('refuses an invalid file whole, naming the key at error level, and keeps the running config', async () => {
    writeFileSync(file, 'log:\n  level: debug\nrate_limit:\n  per_connection:\n    rate: -5\n')
    node.child.kill('SIGHUP')
    const refused = await node.waitForLog((l) => l.msg === REFUSED, 10000)
    assert.equal(refused.level, 50)
    assert.match(String(refused.err), /rate_limit\.per_connection\.rate/)
    assert.equal((await client.request('ping', {}, 'while-refused')).message_type, 'pong')
    // A good file afterwards does take effect: the frame before it was not logged because debug stayed off.
    writeFileSync(file, 'log:\n  level: debug\n')
    node.child.kill('SIGHUP')
    await node.waitForLog((l) => l.msg === 'config reloaded', 10000)
    assert.equal((await client.request('ping', {}, 'after-good')).message_type, 'pong')
    await node.waitForLog(frameIn('after-good'), 10000)
    assert.equal(node.lines.some(frameIn('while-refused')), false)
    assert.equal(client.closed, null)
  })

  it('names a changed key that needs a restart in a warning and keeps its running value', async () => {
    writeFileSync(file, 'log:\n  level: info\nws:\n  path: /elsewhere\n')
    node.child.kill('SIGHUP')
    const warning = await node.waitForLog((l) => l.level === 40 && Array.isArray(l.keys), 10000)
    assert.deepEqual(warning.keys, ['ws.path'])
    const second = await TestClient.connect(`ws://127.0.0.1:${node.port}/ws`)
    second.socket.terminate()
    assert.equal(client.closed, null)
  })
})

describe('config.watch', () => {
  let dir: string
  let node: NodeProcess | null = null

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'wshub-watch-'))
  })

  afterEach(async () => {
    if (node !== null) {
      node.child.kill('SIGTERM')
      await node.exited
      node = null
    }
    rmSync(dir, { recursive: true, force: true })
  })

  it('reloads when the config file changes, without a signal', async () => {
    const file = join(dir, 'wshub.yaml')
    writeFileSync(file, 'config:\n  watch: true\nlog:\n  level: info\n')
    node = await spawnNode({}, ['--config', file])
    writeFileSync(file, 'config:\n  watch: true\nlog:\n  level: debug\n')
    const reloaded = await node.waitForLog((l) => l.msg === 'config reloaded', 10000)
    assert.deepEqual(reloaded.applied, ['log.level'])
  })
})

describe('app.reload on a live node', () => {
  let node: TestNode
  beforeEach(async () => (node = await startNode()))
  afterEach(() => node.close())

  it('applies a lower ws.max_connections to new clients without dropping the connected ones', async () => {
    const first = await node.connect()
    const second = await node.connect()
    const result = node.app.reload(resolveConfig({ ...node.app.config, ws: { ...node.app.config.ws, max_connections: 2 } }))
    assert.deepEqual(result, { applied: ['ws.max_connections'], restartRequired: [] })
    await assert.rejects(node.connect(), (err: Error & { status?: number }) => err.status === 503)
    assert.equal((await first.request('ping')).message_type, 'pong')
    assert.equal((await second.request('ping')).message_type, 'pong')
    node.app.reload(resolveConfig({ ...node.app.config, ws: { ...node.app.config.ws, max_connections: 0 } }))
    const third = await node.connect()
    assert.equal(third.welcome.message_type, 'welcome')
  })

  it('applies new room defaults to rooms made after it', async () => {
    node.app.reload(resolveConfig({ ...node.app.config, rooms: { ...node.app.config.rooms, default_max_clients: 1 } }))
    const first = await node.connect()
    const second = await node.connect()
    await first.request('join_room', { room_id: 'small' })
    assert.equal((await second.request('join_room', { room_id: 'small' })).data.code, 3002)
  })
})
