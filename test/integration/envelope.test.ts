import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, type TestNode } from '../support/node.js'
import { assertError, assertUsable } from '../support/expect.js'
import type { TestClient } from '../support/ws-client.js'

let node: TestNode

before(async () => {
  node = await startNode({ ws: { max_payload: 1024 } })
})
after(() => node.close())

/** Sends a raw text frame and resolves to the next error. */
async function errorFor(client: TestClient, text: string) {
  client.send(text)
  return client.next('error')
}

describe('envelope', () => {
  it('answers malformed JSON with 1001 and stays open', async () => {
    const client = await node.connect()
    assertError(await errorFor(client, '{"message_type":"ping"'), 1001)
    await assertUsable(client)
  })

  for (const [name, text] of [['a JSON array', '[{"message_type":"ping"}]'], ['a JSON string', '"ping"'], ['a JSON number', '42'], ['JSON null', 'null']]) {
    it(`answers ${name} with 1001 and stays open`, async () => {
      const client = await node.connect()
      assertError(await errorFor(client, text!), 1001)
      await assertUsable(client)
    })
  }

  it('answers a missing message_type with 1001', async () => {
    const client = await node.connect()
    assertError(await errorFor(client, '{"data":{}}'), 1001)
    await assertUsable(client)
  })

  for (const [name, type] of [['bad characters', 'no spaces'], ['65 chars', 'x'.repeat(65)], ['an empty string', ''], ['a number', 5]]) {
    it(`answers a message_type with ${name} with 1001`, async () => {
      const client = await node.connect()
      assertError(await errorFor(client, JSON.stringify({ message_type: type })), 1001)
      await assertUsable(client)
    })
  }

  it('answers an invalid message_type with 1001 carrying the request_id when the message_id was valid', async () => {
    const client = await node.connect()
    assertError(await errorFor(client, JSON.stringify({ message_type: 'bad type', message_id: 'req-9' })), 1001, 'req-9')
    assertError(await errorFor(client, JSON.stringify({ message_type: 'x'.repeat(65), message_id: 9 })), 1001, 9)
  })

  for (const [name, id] of [
    ['0', 0], ['-1', -1], ['1.5', 1.5], ['2^53', 2 ** 53], ['true', true], ['an object', {}], ['an empty string', ''], ['a 65-char string', 'x'.repeat(65)],
  ] as const) {
    it(`answers a message_id of ${name} with 1002 and stays open`, async () => {
      const client = await node.connect()
      assertError(await errorFor(client, JSON.stringify({ message_type: 'ping', message_id: id })), 1002)
      await assertUsable(client)
    })
  }

  it('does not run a frame refused for its message_id', async () => {
    const client = await node.connect()
    client.send({ message_type: 'ping', message_id: 0 })
    await client.next('error')
    const rest = await client.quiet(100)
    assert.deepEqual(rest.map((f) => f.message_type), [])
  })

  it('treats message_id null as absent: no request_id and no ack', async () => {
    const client = await node.connect()
    client.send({ message_type: 'ping', message_id: null, data: { ts: 5 } })
    const pong = await client.next('pong')
    assert.equal('request_id' in pong, false)
    client.send({ message_type: 'no_such_type', message_id: null })
    assertError(await client.next('error'), 1006)
  })

  it('answers 2^53-1 and a 64-char string as valid message ids', async () => {
    const client = await node.connect()
    assert.equal((await client.request('ping', null, Number.MAX_SAFE_INTEGER)).message_type, 'pong')
    assert.equal((await client.request('ping', null, 'x'.repeat(64))).message_type, 'pong')
  })

  it('answers an unknown message_type with 1006 carrying the request_id', async () => {
    const client = await node.connect()
    assertError(await client.request('no_such_type', {}, 77), 1006, 77)
    await assertUsable(client)
  })

  it('answers an unknown message_type without message_id with 1006 and no request_id', async () => {
    const client = await node.connect()
    assertError(await errorFor(client, '{"message_type":"no_such_type"}'), 1006)
  })

  it('ignores request_id and timestamp sent by the client', async () => {
    const client = await node.connect()
    client.send({ message_type: 'ping', data: { ts: 1 }, request_id: 'spoof', timestamp: 'x' })
    const pong = await client.next('pong')
    assert.equal('request_id' in pong, false)
  })

  it('refuses a binary frame with 1001 and stays open', async () => {
    const client = await node.connect()
    client.socket.send(Buffer.from('{"message_type":"ping"}'), { binary: true })
    assertError(await client.next('error'), 1001)
    await assertUsable(client)
  })

  it('closes with 1009 on a frame longer than ws.max_payload', async () => {
    const client = await node.connect()
    client.send(JSON.stringify({ message_type: 'ping', data: 'x'.repeat(2000) }))
    assert.equal((await client.waitClose()).code, 1009)
  })

  it('accepts a frame just under ws.max_payload', async () => {
    const client = await node.connect()
    const frame = JSON.stringify({ message_type: 'ping', data: { ts: 3, pad: '' } })
    const pad = 'x'.repeat(1024 - Buffer.byteLength(frame))
    client.send(JSON.stringify({ message_type: 'ping', data: { ts: 3, pad } }))
    assert.equal((await client.next('pong')).data.ts, 3)
  })

  it('closes with 1007 on a text frame that is not valid UTF-8', async () => {
    const client = await node.connect()
    // ws sends a Buffer as a text frame without checking it, which is what this needs.
    client.socket.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false })
    assert.equal((await client.waitClose()).code, 1007)
  })
})
