/**
 * The node's Prometheus metrics, in one registry per app: the one file that imports
 * `prom-client`. Counters fed by the app's events are wired here; gauges (connections,
 * rooms, members) are read at scrape time. Labelled children are made once per label
 * value and cached, never per frame.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import type { Application } from '../../lib/application.js'

/** Distinct values one label may take before the rest are counted as `other`. */
const MAX_LABEL_VALUES = 256
const TYPE_OFFSET = '{"message_type":"'.length

/** A label → child cache with a bound, so hostile input cannot grow the series. */
class Children<C> {
  private readonly cache = new Map<string, C>()
  constructor(private readonly make: (value: string) => C) {}
  get(value: string): C {
    let child = this.cache.get(value)
    if (child === undefined) {
      if (this.cache.size >= MAX_LABEL_VALUES) return this.get('other')
      this.cache.set(value, (child = this.make(value)))
    }
    return child
  }
}

/**
 * How a close code is labelled: a few classes, not every code a client may send.
 *
 * @example
 * ```ts
 * closeClass(1001)   // 'normal'; closeClass(4001) === 'token_expired'
 * ```
 */
export function closeClass(code: number): string {
  if (code === 1000 || code === 1001 || code === 1005) return 'normal'
  if (code === 1006) return 'abnormal'
  if (code === 1008) return 'policy'
  if (code === 1002 || code === 1003 || code === 1007 || code === 1009) return 'protocol'
  if (code === 4000) return 'kicked'
  if (code === 4001) return 'token_expired'
  if (code >= 1010 && code < 3000) return 'server'
  return 'application'
}

/** The message type of an encoded outbound frame (every frame starts with `{"message_type":"`). */
function typeOfFrame(frame: string | Buffer): string {
  if (typeof frame === 'string') return frame.slice(TYPE_OFFSET, frame.indexOf('"', TYPE_OFFSET))
  return frame.toString('latin1', TYPE_OFFSET, frame.indexOf(0x22, TYPE_OFFSET))
}

/** Every wshub metric of one app, fed by its events; the metrics middleware owns one. */
export class Collectors {
  readonly registry = new Registry()
  readonly framesIn: Children<Counter.Internal>
  readonly duration: Children<Histogram.Internal<string>>
  readonly errors: Children<Counter.Internal>
  private readonly framesOut: Children<Counter.Internal>
  private readonly bytesOut: Counter
  private lastFrame: string | Buffer | null = null
  private lastOut: Counter.Internal | null = null

  constructor(app: Application, prefix: string, defaults: boolean) {
    const registers = [this.registry]
    const counter = (name: string, help: string, labelNames: string[] = []) => new Counter({ name: prefix + name, help, labelNames, registers })
    const gauge = (name: string, help: string, collect: () => number) =>
      new Gauge({ name: prefix + name, help, registers, collect() { this.set(collect()) } })

    gauge('connections', 'Connections open on this node.', () => app.server.size)
    gauge('rooms', 'Rooms with members on this node.', () => app.rooms.localCount)
    gauge('room_members', 'Room memberships of this node\'s connections.', () => {
      let members = 0
      for (const client of app.server.connections.values()) members += client.rooms.size
      return members
    })
    const opened = counter('connections_opened_total', 'Connections accepted.')
    const closed = counter('connections_closed_total', 'Connections closed, by close code class.', ['code_class'])
    const framesIn = counter('frames_received_total', 'Frames received, by message type (types no route handles as other, frames refused at the envelope as invalid).', ['type'])
    const framesOut = counter('frames_sent_total', 'Frames sent, by message type.', ['type'])
    const bytesIn = counter('received_bytes_total', 'Bytes of frames received.')
    this.bytesOut = counter('sent_bytes_total', 'Bytes of frames sent.')
    const errors = counter('errors_total', 'Error frames sent, by error code.', ['code'])
    const duration = new Histogram({
      name: `${prefix}handler_duration_seconds`,
      help: 'Time a frame spends in the chain after the metrics middleware, by message type.',
      labelNames: ['type'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    })
    const busPublished = counter('bus_published_total', 'Envelopes published to the cluster bus.')
    const busReceived = counter('bus_received_total', 'Envelopes received from other nodes.')
    const busErrors = counter('bus_errors_total', 'Envelopes that could not cross the bus.')
    const heartbeats = counter('heartbeats_missed_total', 'Connections dropped for missing a heartbeat.')
    const dropped = counter('sends_dropped_total', 'Sends to a connection that was already closing.')
    const slow = counter('slow_consumers_total', 'Connections cut off for not reading (slow consumers).')
    const rateLimited = counter('rate_limited_total', 'Frames refused by the rate limit, by bucket.', ['scope'])
    const httpRefused = counter('http_refused_total', 'HTTP requests refused by the HTTP parser before any handler (400 malformed, 408 headers too slow, 431 headers too large), by status.', ['status'])
    const authRejected = counter('auth_rejected_total', 'Tokens refused, by code and stage (handshake or auth message).', ['code', 'stage'])

    this.framesIn = new Children((type) => framesIn.labels(type))
    this.framesOut = new Children((type) => framesOut.labels(type))
    this.duration = new Children((type) => duration.labels(type))
    this.errors = new Children((code) => errors.labels(code))
    const closedBy = new Children((cls) => closed.labels(cls))

    app.on('connection', () => opened.inc())
    app.on('disconnect', (_client, info) => closedBy.get(closeClass(info.code)).inc())
    app.on('frame_in', (_client, bytes) => bytesIn.inc(bytes))
    app.on('frame_out', (_client, frame) => this.sent(frame))
    app.on('frame_rejected', (_client, code) => {
      this.framesIn.get('invalid').inc()
      this.errors.get(String(code)).inc()
    })
    app.on('bus_published', () => busPublished.inc())
    app.on('bus_received', () => busReceived.inc())
    app.on('bus_error', () => busErrors.inc())
    app.on('heartbeat_missed', () => heartbeats.inc())
    app.on('send_dropped', () => dropped.inc())
    app.on('slow_consumer', () => slow.inc())
    app.on('rate_limited', (_client, scope) => rateLimited.labels(scope).inc())
    app.on('http_refused', ({ status }) => httpRefused.labels(String(status)).inc())
    app.on('auth_rejected', ({ code, stage }) => authRejected.labels(String(code), stage).inc())
    if (defaults) {
      collectDefaultMetrics({ register: this.registry })
      // prom-client names three gauges `*_total`, which `promtool check metrics` refuses;
      // their by-type siblings (`nodejs_active_handles` ...) carry the same numbers.
      for (const metric of this.registry.getMetricsAsArray()) {
        if (metric.name.endsWith('_total') && !(metric instanceof Counter)) this.registry.removeSingleMetric(metric.name)
      }
    }
  }

  // A fan-out writes the same Buffer to every recipient: its type is read once.
  private sent(frame: string | Buffer): void {
    if (frame !== this.lastFrame) {
      this.lastFrame = frame
      this.lastOut = this.framesOut.get(typeOfFrame(frame))
    }
    this.lastOut!.inc()
    this.bytesOut.inc(typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length)
  }
}
