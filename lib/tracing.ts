/**
 * W3C trace context across the bus, through `@opentelemetry/api`: a no-op until the
 * user installs an OpenTelemetry SDK, so it costs next to nothing by default.
 */
import { context, propagation, type Context as OtelContext } from '@opentelemetry/api'

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
