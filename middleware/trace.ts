/**
 * Tracing with `@opentelemetry/api`: a span per frame, named by its message type, with
 * the client, user, room and error code as attributes; the rest of the chain runs inside
 * it, so every bus envelope the frame causes carries its `traceparent`, and the node that
 * receives the envelope delivers it inside a child span. The frame's trace and span ids
 * go into `ctx.log`. With no OpenTelemetry SDK installed, a frame costs one non-recording
 * span and a boolean check.
 */
import { context, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace as otel, type Span, type Tracer } from '@opentelemetry/api'
import type { Application, Middleware } from '../lib/application.js'
import type { BusEnvelope } from '../lib/bus/bus.js'
import type { Connection } from '../lib/connection.js'
import type { Context } from '../lib/context.js'
import type { Next } from '../lib/compose.js'
import { isAppError } from '../lib/errors.js'

export interface TraceOptions {
  /** The instrumentation scope name of the spans. Default `wshub`. */
  tracerName?: string
}

const FRAME_SPAN = { kind: SpanKind.SERVER }
const DELIVERY_SPAN = { kind: SpanKind.CONSUMER }

function roomOf(data: unknown): string | undefined {
  const room = typeof data === 'object' && data !== null ? (data as { room_id?: unknown }).room_id : undefined
  return typeof room === 'string' ? room : undefined
}

function failed(span: Span, err: unknown): void {
  const code = isAppError(err) ? err.code : 1003
  span.setAttribute('wshub.error_code', code)
  span.setStatus({ code: SpanStatusCode.ERROR, message: isAppError(err) ? err.message : 'server error' })
  if (!isAppError(err)) span.recordException(err as Error)
}

function lifecycleSpan(tracer: Tracer, name: string, client: Connection, code?: number): void {
  const span = tracer.startSpan(name, undefined, ROOT_CONTEXT)
  if (span.isRecording()) {
    span.setAttribute('wshub.client_id', client.id)
    if (client.userId !== null) span.setAttribute('enduser.id', client.userId)
    if (code !== undefined) span.setAttribute('wshub.close_code', code)
  }
  span.end()
}

/**
 * The trace middleware; put it first, so every later step (and its logs) is inside the span.
 *
 * @example
 * ```ts
 * import { trace } from 'wshub/middleware/trace'
 * app.use(trace({ tracerName: 'chat-service' }))
 * ```
 */
export function trace(options: TraceOptions = {}): Middleware {
  if (typeof options !== 'object' || options === null) throw new TypeError('trace(options): options must be an object')
  if (options.tracerName !== undefined && (typeof options.tracerName !== 'string' || options.tracerName === '')) {
    throw new TypeError('trace(options): tracerName must be a non-empty string')
  }
  const tracer = otel.getTracer(options.tracerName ?? 'wshub')

  // Not async itself: with no SDK installed (a non-recording span) the frame goes on with
  // no promise of this step's own; only a recording span takes the async path.
  const middleware: Middleware = function trace(ctx: Context, next: Next): Promise<void> {
    const span = tracer.startSpan(ctx.type, FRAME_SPAN)
    if (!span.isRecording()) return next()
    return traced(ctx, next, span)
  }

  async function traced(ctx: Context, next: Next, span: Span): Promise<void> {
    const ids = span.spanContext()
    ctx.traceId = ids.traceId
    ctx.spanId = ids.spanId
    span.setAttribute('wshub.client_id', ctx.client.id)
    if (ctx.client.userId !== null) span.setAttribute('enduser.id', ctx.client.userId)
    const room = roomOf(ctx.data)
    if (room !== undefined) span.setAttribute('wshub.room_id', room)
    if (ctx.messageId !== null) span.setAttribute('wshub.message_id', ctx.messageId)
    try {
      await context.with(otel.setSpan(context.active(), span), next)
    } catch (err) {
      failed(span, err)
      throw err
    } finally {
      span.end()
    }
  }

  middleware.setup = (app: Application) => {
    app.aroundDelivery(function traceDelivery(envelope: BusEnvelope, deliver: (envelope: BusEnvelope) => void): void {
      if (envelope.traceparent === null) return deliver(envelope)
      const parent = propagation.extract(ROOT_CONTEXT, { traceparent: envelope.traceparent })
      const span = tracer.startSpan(`deliver ${envelope.kind}`, DELIVERY_SPAN, parent)
      if (!span.isRecording()) return deliver(envelope)
      span.setAttribute('wshub.origin_node', envelope.origin)
      span.setAttribute('wshub.node_id', app.nodeId)
      if (envelope.kind === 'room') span.setAttribute('wshub.room_id', envelope.rooms.join(','))
      try {
        context.with(otel.setSpan(parent, span), deliver, undefined, envelope)
      } catch (err) {
        failed(span, err)
        throw err
      } finally {
        span.end()
      }
    })
    app.on('connection', (client) => lifecycleSpan(tracer, 'connect', client))
    app.on('disconnect', (client, info) => lifecycleSpan(tracer, 'disconnect', client, info.code))
    app.on('heartbeat_missed', (client) => lifecycleSpan(tracer, 'heartbeat_missed', client))
  }
  return middleware
}
