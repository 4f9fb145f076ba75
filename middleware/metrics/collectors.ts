/**
 * The node's Prometheus metrics, in one registry per app: the one file that imports
 * `prom-client`. Per-frame counts (frames in and out, bytes out, the chain's duration)
 * are plain numbers in {@link FrameStats}, handed to prom-client in `collect()` callbacks
 * at scrape time; the rarer counters fed by the app's events are prom-client's own, with
 * labelled children made once per label value; gauges are read at scrape time.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type Metric, type MetricObjectWithValues, type MetricValueWithName } from 'prom-client'
import type { Application } from '../../lib/application.js'
import { DURATION_BUCKETS, FrameStats, MAX_LABEL_VALUES } from './frame-stats.js'
import { ErrorCode } from '../../lib/errors.js'

/** The bus lag buckets, in seconds. */
const LAG_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]

/** Every class {@link closeClass} gives. */
const CLOSE_CLASSES = ['normal', 'abnormal', 'policy', 'protocol', 'kicked', 'token_expired', 'server', 'application']

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

/**
 * The chain's duration by message type as a Prometheus histogram, read from the plain
 * bucket counts of {@link FrameStats} at scrape time (prom-client's `Histogram` would
 * validate and hash the label set on every `observe`).
 */
class DurationHistogram {
  readonly type = 'histogram'
  readonly aggregator = 'sum'
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly stats: FrameStats,
  ) {}

  get(): Omit<MetricObjectWithValues<MetricValueWithName<string>>, 'collect'> {
    const values: MetricValueWithName<string>[] = []
    for (const s of this.stats.in.values()) {
      if (s.count === 0) continue
      let cumulative = 0
      for (let i = 0; i < DURATION_BUCKETS.length; i++) {
        cumulative += s.buckets[i]!
        values.push({ metricName: `${this.name}_bucket`, labels: { le: DURATION_BUCKETS[i]!, type: s.type }, value: cumulative })
      }
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', type: s.type }, value: s.count })
      values.push({ metricName: `${this.name}_sum`, labels: { type: s.type }, value: s.sum })
      values.push({ metricName: `${this.name}_count`, labels: { type: s.type }, value: s.count })
    }
    return { name: this.name, help: this.help, type: this.type as never, values, aggregator: this.aggregator }
  }

  reset(): void {}
}

/** Every wshub metric of one app, fed by its events; the metrics middleware owns one. */
export class Collectors {
  readonly registry = new Registry()
  /** Frames in, the chain's duration, frames and bytes out: plain numbers, read at scrape time. */
  readonly frames: FrameStats
  readonly errors: Children<Counter.Internal>

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
    const frames = (this.frames = new FrameStats((type) => app.router.has(type) || type === 'auth'))
    // Counters filled from the plain counts at scrape time.
    const scraped = (name: string, help: string, labelNames: string[], fill: (counter: Counter) => void) =>
      new Counter({ name: prefix + name, help, labelNames, registers, collect() { this.reset(); fill(this) } })
    scraped('frames_received_total', 'Frames received, by message type (types no route handles as other, frames refused at the envelope as invalid).', ['type'], (c) => {
      for (const s of frames.in.values()) if (s.framesIn !== 0) c.inc({ type: s.type }, s.framesIn)
    })
    scraped('frames_sent_total', 'Frames sent, by message type.', ['type'], (c) => {
      for (const s of frames.out.values()) c.inc({ type: s.type }, s.frames)
    })
    scraped('sent_bytes_total', 'Bytes of frames sent.', [], (c) => c.inc(frames.bytesOut))
    const bytesIn = counter('received_bytes_total', 'Bytes of frames received.')
    const errors = counter('errors_total', 'Error frames sent, by error code.', ['code'])
    this.registry.registerMetric(new DurationHistogram(`${prefix}handler_duration_seconds`, 'Time a frame spends in the chain after the metrics middleware, by message type.', frames) as unknown as Metric)
    const busPublished = counter('bus_published_total', 'Envelopes published to the cluster bus.')
    const busReceived = counter('bus_received_total', 'Envelopes received from other nodes.')
    const busErrors = counter('bus_errors_total', 'Envelopes that could not cross the bus.')
    gauge('bus_up', 'Whether this node\'s bus is connected and subscribed (1) or down (0).', () => (app.bus?.status === 'up' ? 1 : 0))
    const busLag = new Histogram({
      name: `${prefix}bus_lag_seconds`,
      help: 'Time from an envelope\'s publish on another node to its receipt here (by the two nodes\' clocks: keep them in NTP sync).',
      buckets: LAG_BUCKETS,
      registers,
    })
    const historyMissed = counter('history_missed_total', 'Room messages sent without an offset because the cluster state could not record them (out of reach, or it lost the room).')
    const heartbeats = counter('heartbeats_missed_total', 'Connections dropped for missing a heartbeat.')
    const dropped = counter('sends_dropped_total', 'Sends to a connection that was already closing.')
    const slow = counter('slow_consumers_total', 'Connections cut off for not reading (slow consumers).')
    const rateLimited = counter('rate_limited_total', 'Frames refused by the rate limit, by bucket.', ['scope'])
    const httpRefused = counter('http_refused_total', 'HTTP requests refused by the HTTP parser before any handler (400 malformed, 408 headers too slow, 431 headers too large), by status.', ['status'])
    const authRejected = counter('auth_rejected_total', 'Tokens refused, by code and stage (handshake or auth message).', ['code', 'stage'])

    this.errors = new Children((code) => errors.labels(code))
    const closedBy = new Children((cls) => closed.labels(cls))
    // Every label value known in advance is exported at 0 from the start, so that a rate()
    // over it reads 0 rather than no data until the first one happens.
    for (const code of Object.values(ErrorCode)) errors.inc({ code: String(code) }, 0)
    for (const cls of CLOSE_CLASSES) closed.inc({ code_class: cls }, 0)
    for (const scope of ['connection', 'user']) rateLimited.inc({ scope }, 0)
    for (const status of ['400', '408', '431']) httpRefused.inc({ status }, 0)
    for (const code of [ErrorCode.Unauthorized, ErrorCode.TokenExpired, ErrorCode.InvalidToken]) {
      for (const stage of ['handshake', 'message']) authRejected.inc({ code: String(code), stage }, 0)
    }

    app.on('connection', () => opened.inc())
    app.on('disconnect', (_client, info) => closedBy.get(closeClass(info.code)).inc())
    app.on('frame_in', (_client, bytes) => bytesIn.inc(bytes))
    app.on('frame_out', (_client, frame) => frames.sent(frame))
    app.on('frame_rejected', (_client, code) => {
      frames.named('invalid').framesIn++
      this.errors.get(String(code)).inc()
    })
    app.on('bus_published', () => busPublished.inc())
    app.on('bus_received', (envelope) => {
      busReceived.inc()
      if (typeof envelope.sent_at === 'number') busLag.observe(Math.max(0, Date.now() - envelope.sent_at) / 1000)
    })
    app.on('bus_error', () => busErrors.inc())
    app.on('history_missed', () => historyMissed.inc())
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
}
