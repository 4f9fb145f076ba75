import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { startNode } from '../support/node.js'
import { createApp } from '../../lib/application.js'
import { requestTiming } from '../../examples/third-party-middleware/index.js'

describe('requestTiming (the third-party middleware example)', () => {
  it('puts its typed frame state on ctx.state for later middleware and handlers', async () => {
    const node = await startNode()
    try {
      node.app.use(requestTiming())
      node.app.route('when', (ctx) => ctx.reply('when_reply', { startedAt: ctx.state.requestTiming?.startedAt ?? null }))
      const client = await node.connect()
      const reply = await client.request('when')
      assert.equal(typeof reply.data.startedAt, 'number')
    } finally {
      await node.close()
    }
  })

  it('counts the frames of each connection on ctx.client.data', async () => {
    const node = await startNode()
    try {
      node.app.use(requestTiming())
      node.app.route('stats', (ctx) => ctx.reply('stats_reply', ctx.client.data.requestTiming))
      const client = await node.connect()
      await client.request('ping')
      const reply = await client.request('stats')
      assert.deepEqual(reply.data, { frames: 2, slowFrames: 0 })
    } finally {
      await node.close()
    }
  })

  it('logs frames slower than slowMs at warn, with the frame\'s client and type', async () => {
    const lines: Array<Record<string, unknown>> = []
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(chunk.toString())); done() } })
    const node = await startNode({ log: { level: 'warn' } }, { logger: pino({ level: 'warn' }, sink) })
    try {
      node.app.use(requestTiming({ slowMs: 20 }))
      node.app.route('slow', async (ctx) => {
        await new Promise((r) => setTimeout(r, 40))
        ctx.reply('slow_reply', null)
      })
      const client = await node.connect()
      await client.request('slow')
      assert.ok(lines.some((l) => l.msg === 'slow frame' && l.message_type === 'slow' && l.client_id === client.id), JSON.stringify(lines))
    } finally {
      await node.close()
    }
  })

  it('logs nothing for frames under slowMs', async () => {
    const lines: Array<Record<string, unknown>> = []
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(chunk.toString())); done() } })
    const node = await startNode({ log: { level: 'warn' } }, { logger: pino({ level: 'warn' }, sink) })
    try {
      node.app.use(requestTiming({ slowMs: 60 * 60 * 1000 }))
      const client = await node.connect()
      await client.request('ping')
      assert.deepEqual(lines.filter((l) => l.msg === 'slow frame'), [])
    } finally {
      await node.close()
    }
  })

  it('refuses a negative slowMs when made', () => {
    assert.throws(() => requestTiming({ slowMs: -1 }), /slowMs must be a number ≥ 0/)
  })

  it('is a named middleware that app.use() accepts', () => {
    const middleware = requestTiming()
    assert.equal(middleware.name, 'requestTiming')
    createApp({}, { defaults: false }).use(middleware)
  })
})
