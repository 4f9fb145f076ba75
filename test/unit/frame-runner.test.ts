/** FrameRunner made without an Application: a host with a composed chain, a logger and the app's events on a plain emitter. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { pino } from 'pino'
import { compose } from '../../lib/compose.js'
import type { Context } from '../../lib/context.js'
import { AppError, ErrorCode } from '../../lib/errors.js'
import type { AppEvents } from '../../lib/events.js'
import { FrameRunner, type FrameHost, type RejectHook } from '../../lib/frame-runner.js'
import { fakeConnection } from '../support/parts.js'

type Handler = (ctx: Context) => unknown

class Host extends EventEmitter<AppEvents> implements FrameHost {
  readonly log = pino({ level: 'silent' })
  debug = false
  inFlight = 0
  readonly rejectHooks: RejectHook[] = []
  readonly rooms = {
    join: async () => ({ members: 1, recovered: null }),
    leave: async () => {},
    members: async () => null,
  }
  composed: FrameHost['composed']
  constructor(handler: Handler) {
    super()
    this.composed = compose<Context>([(ctx, next) => (ctx.type === 'boom' ? Promise.reject(new Error('boom')) : next()), (ctx) => handler(ctx)])
  }
  to(): never {
    throw new Error('not in these tests')
  }
  toUser(): never {
    throw new Error('not in these tests')
  }
  async broadcast(): Promise<void> {}
  async sendTo(): Promise<void> {}
}

const frame = (type: string, messageId: number | null, data: unknown = null) => ({ type, data, messageId, receivedAt: performance.now() })

describe('FrameRunner without an Application', () => {
  it('runs the frames of one connection in arrival order, one at a time, and acks a request the handler did not answer', async () => {
    const order: string[] = []
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    const host = new Host(async (ctx) => {
      order.push(`start ${ctx.data}`)
      if (ctx.data === 1) await held
      order.push(`end ${ctx.data}`)
    })
    const runner = new FrameRunner(host)
    const { conn, socket } = fakeConnection('n1.a', 'n1')
    const first = runner.dispatch(conn, frame('work', 1, 1))
    void runner.dispatch(conn, frame('work', 2, 2))
    assert.equal(host.inFlight, 1)
    release()
    await first
    assert.deepEqual(order, ['start 1', 'end 1', 'start 2', 'end 2'])
    assert.deepEqual(socket.sent.map((f) => [f.message_type, f.request_id]), [['ack', 1], ['ack', 2]])
    assert.equal(host.inFlight, 0)
  })

  it('answers a thrown AppError with its code and anything else with 1003, emitting error for the latter', async () => {
    const host = new Host((ctx) => ctx.throw(ErrorCode.Forbidden, 'no'))
    const errors: unknown[] = []
    host.on('error', (err) => errors.push(err))
    const runner = new FrameRunner(host)
    const { conn, socket } = fakeConnection('n1.a', 'n1')
    await runner.dispatch(conn, frame('work', 7))
    await runner.dispatch(conn, frame('boom', 8))
    assert.deepEqual(socket.sent.map((f) => [f.message_type, f.data.code, f.request_id]), [['error', ErrorCode.Forbidden, 7], ['error', ErrorCode.ServerError, 8]])
    assert.deepEqual(errors.map((e) => (e as Error).message), ['boom'])
  })

  it('answers a refused frame with what a reject hook says instead, and emits frame_rejected', async () => {
    const host = new Host(() => {})
    host.rejectHooks.push((_client, code) => (code === ErrorCode.InvalidFormat ? new AppError(ErrorCode.RateLimited, 'slow down') : null))
    const rejected: number[] = []
    host.on('frame_rejected', (_client, code) => rejected.push(code))
    const runner = new FrameRunner(host)
    const { conn, socket } = fakeConnection('n1.a', 'n1')
    runner.reject(conn, ErrorCode.InvalidFormat, 'bad frame', null)
    assert.deepEqual(socket.sent.map((f) => [f.data.code, f.data.message]), [[ErrorCode.RateLimited, 'slow down']])
    assert.deepEqual(rejected, [ErrorCode.RateLimited])
  })
})
