/**
 * The trace middleware with no OpenTelemetry SDK installed (this file's process
 * registers none): frames run untouched and bus envelopes carry no traceparent.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { startNode } from '../support/node.js'
import { MemoryBus, MemoryHub } from '../../lib/bus/memory.js'
import { MemoryState } from '../../lib/cluster/memory.js'

describe('trace without an SDK', () => {
  it('gives ctx.traceId a W3C trace id of the frame\'s own (and no span id), and answers the frame as usual', async () => {
    const node = await startNode()
    try {
      let traceId = 'unset'
      let spanId: string | null = 'unset'
      node.app.route('which_trace', (ctx) => {
        spanId = ctx.spanId
        traceId = ctx.traceId
        ctx.reply('which_trace_reply', null)
      })
      const client = await node.connect()
      assert.equal((await client.request('which_trace')).message_type, 'which_trace_reply')
      assert.equal(spanId, null, 'no span was made')
      assert.match(traceId, /^(?!0{32}$)[0-9a-f]{32}$/)
    } finally {
      await node.close()
    }
  })

  it('sends bus envelopes with a null traceparent, delivered as usual', async () => {
    const hub = new MemoryHub()
    const state = new MemoryState()
    const a = await startNode({}, { bus: new MemoryBus(hub), state })
    const b = await startNode({}, { bus: new MemoryBus(hub), state })
    try {
      const parents: Array<string | null> = []
      b.app.on('bus_received', (envelope) => parents.push(envelope.traceparent))
      const sender = await a.connect()
      const receiver = await b.connect()
      await sender.request('join_room', { room_id: 'plain' })
      await receiver.request('join_room', { room_id: 'plain' })
      await sender.request('room_message', { room_id: 'plain', content: 'hi' })
      assert.equal((await receiver.next('room_message')).data.content, 'hi')
      assert.deepEqual(parents, [null])
    } finally {
      await a.close()
      await b.close()
    }
  })
})
