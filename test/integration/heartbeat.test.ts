import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { nodesClosedAfter } from '../support/node.js'
import { assertUsable, eventually, sleep } from '../support/expect.js'
import type { Connection } from '../../lib/connection.js'

const nodeWith = nodesClosedAfter()

describe('heartbeat', () => {
  it('drops a client that answers no ping after interval + timeout, and emits heartbeat_missed', async () => {
    const node = await nodeWith({ heartbeat: { interval_ms: 100, timeout_ms: 100 } })
    const missed: Connection[] = []
    const disconnects: number[] = []
    node.app.on('heartbeat_missed', (client) => missed.push(client))
    node.app.on('disconnect', (_client, info) => disconnects.push(info.code))
    const silent = await node.connect('', { autoPong: false })
    const closed = await silent.waitClose(5000)
    assert.equal(closed.code, 1006)
    assert.deepEqual(missed.map((c) => c.id), [silent.id])
    await eventually(() => disconnects.length === 1, 3000, 'disconnect event')
  })

  it('keeps a client that answers pings, round after round', async () => {
    const node = await nodeWith({ heartbeat: { interval_ms: 50, timeout_ms: 50 } })
    const missed: string[] = []
    node.app.on('heartbeat_missed', (client) => missed.push(client.id))
    const client = await node.connect()
    await sleep(600)
    assert.equal(client.closed, null)
    assert.deepEqual(missed, [])
    await assertUsable(client)
  })

  it('keeps a client that answers pings when timeout_ms is longer than interval_ms', async () => {
    const node = await nodeWith({ heartbeat: { interval_ms: 20, timeout_ms: 100 } })
    const missed: string[] = []
    node.app.on('heartbeat_missed', (client) => missed.push(client.id))
    const clients = await Promise.all(Array.from({ length: 5 }, () => node.connect()))
    await sleep(800)
    assert.deepEqual(missed, [])
    assert.ok(clients.every((c) => c.closed === null))
  })

  it('drops a silent client when timeout_ms is longer than interval_ms', async () => {
    const node = await nodeWith({ heartbeat: { interval_ms: 20, timeout_ms: 100 } })
    const silent = await node.connect('', { autoPong: false })
    assert.equal((await silent.waitClose(5000)).code, 1006)
  })

  it('counts any frame from the client as a sign of life', async () => {
    const node = await nodeWith({ heartbeat: { interval_ms: 100, timeout_ms: 100 } })
    const missed: string[] = []
    node.app.on('heartbeat_missed', (client) => missed.push(client.id))
    const chatty = await node.connect('', { autoPong: false })
    for (let i = 0; i < 12; i++) {
      chatty.send({ message_type: 'ping' })
      await sleep(50)
    }
    assert.equal(chatty.closed, null)
    assert.deepEqual(missed, [])
  })
})
