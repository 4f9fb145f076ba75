/**
 * The trace middleware with a real OpenTelemetry SDK (in-memory exporter): this file's
 * process registers it globally, so the spans and their parent links are the SDK's own.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { context, propagation, trace as otel, SpanStatusCode } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { startNode, type TestNode, startMemoryPair } from '../support/node.js'
import { hs256, SECRET } from '../support/tokens.js'
import { trace } from '../../middleware/trace.js'

const exporter = new InMemorySpanExporter()
otel.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }))
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
propagation.setGlobalPropagator(new W3CTraceContextPropagator())

/** The first finished span that matches, waiting for it to end (spans end after the reply is sent). */
async function span(match: (s: ReadableSpan) => boolean): Promise<ReadableSpan> {
  for (let i = 0; i < 200; i++) {
    const found = exporter.getFinishedSpans().find(match)
    if (found) return found
    await new Promise((r) => setTimeout(r, 10))
  }
  throw new Error(`no such span; finished: ${exporter.getFinishedSpans().map((s) => s.name).join(', ')}`)
}

describe('trace', () => {
  let node: TestNode
  before(async () => {
    node = await startNode({ auth: { secret: SECRET } })
  })
  after(() => node.close())

  it('makes a span per frame named by its message type, with client, user and room attributes', async () => {
    const client = await node.connect(`?token=${hs256({ sub: 'tracy', permissions: ['join:room', 'create:room'] })}`)
    await client.request('join_room', { room_id: 'traced-room' })
    const s = await span((x) => x.name === 'join_room' && x.attributes['wshub.client_id'] === client.id)
    assert.equal(s.attributes['enduser.id'], 'tracy')
    assert.equal(s.attributes['wshub.room_id'], 'traced-room')
    assert.equal(s.attributes['wshub.message_id'], 1)
    assert.equal(s.status.code, SpanStatusCode.UNSET)
  })

  it('records the error code of a frame that failed', async () => {
    const client = await node.connect()
    await client.request('no_such_type')
    const s = await span((x) => x.name === 'no_such_type' && x.attributes['wshub.client_id'] === client.id)
    assert.equal(s.attributes['wshub.error_code'], 1006)
    assert.equal(s.status.code, SpanStatusCode.ERROR)
  })

  it('puts the frame\'s trace and span ids into ctx.log', async () => {
    let bindings: Record<string, unknown> = {}
    node.app.route('log_ids', (ctx) => {
      bindings = ctx.log.bindings()
      ctx.reply('log_ids_reply', null)
    })
    const client = await node.connect()
    await client.request('log_ids')
    const s = await span((x) => x.name === 'log_ids' && x.attributes['wshub.client_id'] === client.id)
    assert.equal(bindings.trace_id, s.spanContext().traceId)
    assert.equal(bindings.span_id, s.spanContext().spanId)
  })

  it('makes spans for the connection lifecycle', async () => {
    const client = await node.connect()
    const id = client.id
    client.close()
    await span((x) => x.name === 'connect' && x.attributes['wshub.client_id'] === id)
    const closed = await span((x) => x.name === 'disconnect' && x.attributes['wshub.client_id'] === id)
    assert.equal(closed.attributes['wshub.close_code'], 1005)
  })
})

describe('trace across the bus', () => {
  it('delivers on the receiving node inside a child span of the sending frame\'s span', async () => {
    const [a, b] = await startMemoryPair({})
    try {
      const sender = await a.connect()
      const receiver = await b.connect()
      await sender.request('join_room', { room_id: 'across' })
      await receiver.request('join_room', { room_id: 'across' })
      await sender.request('room_message', { room_id: 'across', content: 'hello' })
      await receiver.next('room_message')
      const sent = await span((x) => x.name === 'room_message' && x.attributes['wshub.client_id'] === sender.id)
      const delivered = await span((x) => x.name === 'deliver room' && x.attributes['wshub.node_id'] === b.app.nodeId && x.parentSpanContext?.spanId === sent.spanContext().spanId)
      assert.equal(delivered.spanContext().traceId, sent.spanContext().traceId)
      assert.equal(delivered.attributes['wshub.origin_node'], a.app.nodeId)
      assert.equal(delivered.attributes['wshub.room_id'], 'across')
    } finally {
      await a.close()
      await b.close()
    }
  })
})

describe('trace()', () => {
  it('returns a middleware named trace', () => {
    assert.equal(trace().name, 'trace')
  })

  it('refuses an empty tracerName', () => {
    assert.throws(() => trace({ tracerName: '' }), /tracerName/)
  })
})
