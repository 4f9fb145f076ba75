/**
 * One load-generator process. The orchestrator drives it over IPC, phase by phase:
 * connect (more) clients, join a room, start requests or publishing, `mark` the start of
 * the measured window, stop and report. Counters are reset at `mark`, so warm-up is
 * never counted; latencies are histograms that merge across workers.
 */
import { connectClient, type LoadClient, type Protocol, type Sink } from './clients.js'
import { Histogram, monoMs } from '../support/stats.js'

const clients: LoadClient[] = []
const latency = new Histogram()
let requesting = false
let replies = 0
let errors = 0
let deliveries = 0
let published = 0
let closed = 0
let broadcasts = 0
let lastBroadcastAt = 0
// Deliveries count when their message was published inside the measured window,
// whenever they arrive, so that the tail after the window is waited for, not lost.
let windowStart = Number.POSITIVE_INFINITY
let windowEnd = Number.POSITIVE_INFINITY
const publishers: NodeJS.Timeout[] = []

const sink: Sink = {
  reply(client, ms) {
    replies++
    latency.record(ms)
    // A closed loop per in-flight slot: each reply sends the next request on its client.
    if (requesting) client.request()
  },
  error() {
    errors++
  },
  delivery(sentAt) {
    if (sentAt < windowStart || sentAt > windowEnd) return
    deliveries++
    latency.record(monoMs() - sentAt)
  },
  broadcast() {
    broadcasts++
    lastBroadcastAt = monoMs()
  },
  closed() {
    closed++
  },
}

interface ConnectCommand {
  protocol: Protocol
  urls: string[]
  count: number
  localAddresses: string[]
  concurrency: number
}

/** Opens `count` more clients, at most `concurrency` handshakes at a time. */
async function connect(msg: ConnectCommand) {
  const started = monoMs()
  const base = clients.length
  let next = 0
  let failed = 0
  let firstError: string | null = null
  const lane = async () => {
    while (next < msg.count) {
      const i = base + next++
      const url = msg.urls[i % msg.urls.length]!
      const local = msg.localAddresses.length > 0 ? msg.localAddresses[i % msg.localAddresses.length] : undefined
      try {
        clients.push(await connectClient(msg.protocol, url, local, sink))
      } catch (err) {
        failed++
        firstError ??= (err as Error).message
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(msg.concurrency, msg.count)) }, lane))
  return { opened: msg.count - failed, failed, firstError, ms: monoMs() - started, total: clients.length }
}

async function join(msg: { room: string; concurrency: number }) {
  let next = 0
  const lane = async () => {
    while (next < clients.length) await clients[next++]!.join(msg.room)
  }
  await Promise.all(Array.from({ length: Math.max(1, msg.concurrency) }, lane))
  return { joined: clients.length }
}

function startRequests(msg: { inFlight: number }) {
  requesting = true
  for (const client of clients) for (let i = 0; i < msg.inFlight; i++) client.request()
  return { clients: clients.length }
}

/** The first `publishers` clients each send `rate` room messages a second, spread evenly. */
function startPublishing(msg: { room: string; publishers: number; rate: number; payloadBytes: number }) {
  const pad = 'x'.repeat(msg.payloadBytes)
  const interval = 1000 / msg.rate
  const count = Math.min(msg.publishers, clients.length)
  for (let i = 0; i < count; i++) {
    const client = clients[i]!
    const start = setTimeout(() => {
      publishers.push(
        setInterval(() => {
          const t = monoMs()
          if (t >= windowStart) published++
          client.publish(msg.room, { t, p: pad })
        }, interval),
      )
    }, (interval * i) / count)
    publishers.push(start)
  }
  return { publishers: count }
}

function stopPublishing() {
  for (const timer of publishers) clearInterval(timer)
  publishers.length = 0
}

function status() {
  let open = 0
  for (const client of clients) if (client.open) open++
  return { clients: clients.length, open, closed, memory: process.memoryUsage().rss }
}

async function handle(msg: any): Promise<unknown> {
  switch (msg.cmd) {
    case 'connect':
      return connect(msg)
    case 'join':
      return join(msg)
    case 'requests-start':
      return startRequests(msg)
    case 'publish-start':
      return startPublishing(msg)
    case 'mark':
      latency.reset()
      replies = errors = deliveries = published = 0
      windowStart = monoMs()
      windowEnd = Number.POSITIVE_INFINITY
      return true
    case 'requests-stop':
      requesting = false
      return { replies, errors, latency: latency.toJSON() }
    case 'publish-stop':
      stopPublishing()
      windowEnd = monoMs()
      return { published }
    case 'deliveries':
      return { published, deliveries, errors, latency: latency.toJSON() }
    case 'arm-broadcast':
      broadcasts = 0
      lastBroadcastAt = 0
      return true
    case 'broadcast-status':
      return { received: broadcasts, lastAt: lastBroadcastAt }
    case 'status':
      return status()
    case 'close':
      for (const client of clients) client.close()
      clients.length = 0
      return true
    default:
      throw new Error(`unknown command ${msg.cmd}`)
  }
}

process.on('message', (msg: any) => {
  handle(msg).then(
    (result) => process.send!({ type: 'reply', id: msg.id, result }),
    (err: Error) => process.send!({ type: 'reply', id: msg.id, error: err.message }),
  )
})
process.once('disconnect', () => process.exit(0))
process.send!({ type: 'ready' })
