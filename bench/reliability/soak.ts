/**
 * `npm run soak -- --minutes N [--bus redis|nats] [--clients C] [--sample-s S]`: steady
 * mixed traffic on a 2-node cluster over a Redis or a NATS (JetStream) of its own (room
 * messages with acks, pings, direct messages across nodes, joins and leaves, and
 * connection churn), while each node's RSS, heap and event-loop delay p99 (prom-client's
 * monitorEventLoopDelay gauge on GET /metrics) are sampled every few seconds. Writes
 * bench/results/soak-<bus>.{csv,svg,json} and prints the least-squares slope of memory
 * over time, in MB per hour.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import WebSocket from 'ws'
import { spawnNode, type NodeProcess } from '../../test/support/process.js'
import { startNats, startRedis, testPrefix } from '../../test/support/services.js'
import { numberFlag } from './args.js'
import { slope, soakSvg, type Series } from './plot.js'

const minutes = numberFlag('minutes', 10)
const perNode = numberFlag('clients', 40)
const sampleS = numberFlag('sample-s', 5)
const ROOMS = 8
const busAt = process.argv.indexOf('--bus')
const bus = busAt === -1 ? 'redis' : process.argv[busAt + 1]
if (bus !== 'redis' && bus !== 'nats') {
  console.error(`--bus takes redis or nats (got ${bus})`)
  process.exit(2)
}

const server = bus === 'redis' ? await startRedis() : await startNats()
const prefix = testPrefix()
const env = (i: number) => ({
  WSHUB_CLUSTER_BUS: bus,
  ...(bus === 'redis' ? { WSHUB_CLUSTER_REDIS_URL: server.url } : { WSHUB_CLUSTER_NATS_SERVERS: server.url }),
  WSHUB_CLUSTER_PREFIX: prefix,
  WSHUB_CLUSTER_NODE_ID: `${prefix}n${i}`,
  WSHUB_ROOMS_HISTORY_SIZE: '50',
  WSHUB_LOG_LEVEL: 'warn',
})
const nodes: NodeProcess[] = []
for (const i of [1, 2]) nodes.push(await spawnNode({ ...env(i), WSHUB_LOG_LEVEL: 'info' }))

const stats = { sent: 0, acked: 0, delivered: 0, errors: 0, directs: 0, pings: 0, pongs: 0, reconnects: 0, latencies: [] as number[], errorsByCode: {} as Record<string, number>, errorSamples: [] as string[] }

interface Member {
  socket: WebSocket
  id: string
  rooms: string[]
  node: number
  next: number
}
const members: Member[] = []

function connect(node: number): Promise<Member> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(`ws://127.0.0.1:${nodes[node]!.port}/ws`)
    const rooms = [`soak-${Math.floor(Math.random() * ROOMS)}`, `soak-${Math.floor(Math.random() * ROOMS)}`].filter((r, i, a) => a.indexOf(r) === i)
    const member: Member = { socket, id: '', rooms, node, next: 1 }
    socket.on('message', (raw: Buffer) => {
      const f = JSON.parse(raw.toString())
      switch (f.message_type) {
        case 'welcome':
          member.id = f.data.client_id
          for (const room of rooms) socket.send(JSON.stringify({ message_type: 'join_room', data: { room_id: room }, message_id: member.next++ }))
          resolve(member)
          break
        case 'ack':
          stats.acked++
          break
        case 'room_message':
          stats.delivered++
          if (stats.latencies.length < 200_000) stats.latencies.push(Date.now() - f.data.content.t)
          break
        case 'direct_message':
          stats.directs++
          break
        case 'pong':
          stats.pongs++
          break
        case 'error': {
          stats.errors++
          const key = `${f.data?.code}`
          stats.errorsByCode[key] = (stats.errorsByCode[key] ?? 0) + 1
          if (stats.errorSamples.length < 10) stats.errorSamples.push(`${f.data?.code} ${f.data?.message}`)
          break
        }
      }
    })
    socket.once('error', reject)
  })
}

for (let i = 0; i < perNode * 2; i++) members.push(await connect(i % 2))

// Each member talks every 2 s on average: a room message (acked), now and then a ping or a direct message.
const talk = setInterval(() => {
  for (const m of members) {
    if (m.socket.readyState !== WebSocket.OPEN || Math.random() > 0.05) continue
    const roll = Math.random()
    if (roll < 0.8) {
      m.socket.send(JSON.stringify({ message_type: 'room_message', data: { room_id: m.rooms[0], content: { t: Date.now(), text: 'x'.repeat(100) } }, message_id: m.next++ }))
      stats.sent++
    } else if (roll < 0.9) {
      m.socket.send(JSON.stringify({ message_type: 'ping', data: { ts: Date.now() } }))
      stats.pings++
    } else {
      const other = members[Math.floor(Math.random() * members.length)]!
      m.socket.send(JSON.stringify({ message_type: 'direct_message', data: { target_id: other.id, content: 'hi' } }))
    }
  }
}, 100)

// Churn: a member of each node leaves and another connects, every second.
const churn = setInterval(async () => {
  for (const node of [0, 1]) {
    const at = members.findIndex((m) => m.node === node)
    const [gone] = members.splice(at, 1)
    gone!.socket.close()
    members.push(await connect(node))
    stats.reconnects++
  }
}, 1000)

async function scrape(node: NodeProcess): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${node.port}/metrics`)).text()
  const read = (name: string) => {
    const value = Number(text.split('\n').find((l) => l.startsWith(`${name} `))?.split(' ')[1])
    if (!Number.isFinite(value)) throw new Error(`GET /metrics has no ${name}: is the metrics middleware in the chain?`)
    return value
  }
  return {
    rss_mb: read('process_resident_memory_bytes') / 2 ** 20,
    heap_mb: read('nodejs_heap_size_used_bytes') / 2 ** 20,
    loop_p99_ms: read('nodejs_eventloop_lag_p99_seconds') * 1000,
    connections: read('wshub_connections'),
  }
}

const rows: Array<{ t: number; node: number; rss_mb: number; heap_mb: number; loop_p99_ms: number; connections: number }> = []
const round = (v: number, d = 2) => Math.round(v * 10 ** d) / 10 ** d
// Written after every sample as well, so a run cut short still leaves its figures.
const writeCsv = () => {
  mkdirSync('bench/results', { recursive: true })
  writeFileSync(`bench/results/soak-${bus}.csv`, ['t_s,node,rss_mb,heap_mb,loop_p99_ms,connections', ...rows.map((r) => [round(r.t, 1), r.node, round(r.rss_mb), round(r.heap_mb), round(r.loop_p99_ms), r.connections].join(','))].join('\n') + '\n')
}
const started = Date.now()
while (Date.now() - started < minutes * 60_000) {
  await new Promise((r) => setTimeout(r, sampleS * 1000))
  const t = (Date.now() - started) / 1000
  for (const [i, node] of nodes.entries()) {
    if (node.child.exitCode !== null || node.child.signalCode !== null) throw new Error(`node ${i + 1} died: ${node.stderr}`)
    rows.push({ t, node: i + 1, ...(await scrape(node)) } as never)
  }
  writeCsv()
}
clearInterval(talk)
clearInterval(churn)
await new Promise((r) => setTimeout(r, 2000))

const per = (node: number, key: 'rss_mb' | 'heap_mb' | 'loop_p99_ms') => rows.filter((r) => r.node === node).map((r) => [r.t, r[key]] as [number, number])
// Warm-up (JIT, buffers, the first rooms) is left out of the slope: the first minute, or the first tenth of a short run.
const warm = Math.min(60, (minutes * 60) / 10)
const mbPerHour = (points: Array<[number, number]>) => round(slope(points.filter(([t]) => t >= warm)) * 3600)
// RSS climbs for minutes before it levels off: the second half's slope says whether it did.
const secondHalf = (points: Array<[number, number]>) => round(slope(points.filter(([t]) => t >= (minutes * 60) / 2)) * 3600)
const sorted = stats.latencies.slice().sort((a, b) => a - b)
const summary = {
  bus,
  minutes,
  clients: perNode * 2,
  traffic: { room_messages_sent: stats.sent, acks: stats.acked, deliveries: stats.delivered, direct_messages_received: stats.directs, pings: stats.pings, pongs: stats.pongs, errors: stats.errors, errors_by_code: stats.errorsByCode, error_samples: stats.errorSamples, reconnects: stats.reconnects },
  delivery_latency_ms: { p50: sorted[Math.floor(sorted.length * 0.5)], p99: sorted[Math.floor(sorted.length * 0.99)], max: sorted[sorted.length - 1] },
  nodes: [1, 2].map((n) => {
    const rss = per(n, 'rss_mb')
    const heap = per(n, 'heap_mb')
    const loop = per(n, 'loop_p99_ms').map(([, v]) => v)
    return {
      node: n,
      rss_mb: { first: round(rss[0]![1], 1), last: round(rss[rss.length - 1]![1], 1), max: round(Math.max(...rss.map(([, v]) => v)), 1), slope_mb_per_hour: mbPerHour(rss), second_half_slope_mb_per_hour: secondHalf(rss) },
      heap_mb: { first: round(heap[0]![1], 1), last: round(heap[heap.length - 1]![1], 1), max: round(Math.max(...heap.map(([, v]) => v)), 1), slope_mb_per_hour: mbPerHour(heap), second_half_slope_mb_per_hour: secondHalf(heap) },
      loop_p99_ms: { median: round(loop.slice().sort((a, b) => a - b)[Math.floor(loop.length / 2)]!), max: round(Math.max(...loop)) },
    }
  }),
}

writeCsv()
const colors = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e']
const memory: Series[] = [1, 2].flatMap((n) => [
  { name: `node ${n} RSS`, color: colors[(n - 1) * 2]!, points: per(n, 'rss_mb') },
  { name: `node ${n} heap used`, color: colors[(n - 1) * 2 + 1]!, points: per(n, 'heap_mb') },
])
const loop: Series[] = [1, 2].map((n) => ({ name: `node ${n}`, color: colors[(n - 1) * 2]!, points: per(n, 'loop_p99_ms') }))
writeFileSync(`bench/results/soak-${bus}.svg`, soakSvg(`wshub soak: 2 nodes on ${bus === 'redis' ? 'Redis' : 'NATS'}, ${perNode * 2} clients, ${minutes} min`, memory, loop))
writeFileSync(`bench/results/soak-${bus}.json`, `${JSON.stringify(summary, null, 2)}\n`)
console.log(JSON.stringify(summary, null, 2))

for (const m of members) m.socket.terminate()
for (const node of nodes) {
  node.child.kill('SIGTERM')
  await node.exited
}
await server.close()
