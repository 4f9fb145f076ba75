/**
 * W3C trace context across the bus, through `@opentelemetry/api`: a no-op until the
 * user installs an OpenTelemetry SDK, so it costs next to nothing by default. And the
 * trace ids of frames that have no span of their own (no SDK installed), made only when
 * a log line or an error needs one.
 */
import { randomFillSync } from 'node:crypto'
import { context, INVALID_TRACEID, isSpanContextValid, propagation, trace, type Context as OtelContext, type SpanContext } from '@opentelemetry/api'

const carrier: { traceparent?: string } = {}

/** The `traceparent` of the active span, or null when there is none. */
export function currentTraceparent(): string | null {
  carrier.traceparent = undefined
  propagation.inject(context.active(), carrier)
  return carrier.traceparent ?? null
}

/** The OpenTelemetry context a remote `traceparent` names (the active one when null). */
export function contextFromTraceparent(traceparent: string | null): OtelContext {
  if (traceparent === null) return context.active()
  return propagation.extract(context.active(), { traceparent })
}

// Optimization: one system call fills 256 ids; an id is then a slice of it in hex.
const ID_BYTES = 16
const pool = Buffer.alloc(ID_BYTES * 256)
let poolOffset = pool.length

/** A fresh random W3C trace id: 32 lowercase hex digits, never all zero. */
export function newTraceId(): string {
  for (;;) {
    if (poolOffset === pool.length) {
      randomFillSync(pool)
      poolOffset = 0
    }
    const id = pool.toString('hex', poolOffset, (poolOffset += ID_BYTES))
    if (id !== INVALID_TRACEID) return id
  }
}

/** The ids of the span active now (a delivery span, one the application started), or null when none is. */
export function activeSpanContext(): SpanContext | null {
  const active = trace.getSpanContext(context.active())
  return active !== undefined && isSpanContextValid(active) ? active : null
}
