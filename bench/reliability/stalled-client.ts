/**
 * `npm run bench:stalled -- [--seconds S] [--receivers N] [--rate R]`: the latency the
 * other members of a room see, with and without one member that stopped reading (its
 * TCP socket paused, as a frozen browser tab's is). The node runs as its own process
 * (the CLI); the sender and receivers share this process's clock. Prints p50/p99 of
 * both phases and whether the stalled client was cut off (ws.max_buffered_bytes), and
 * writes bench/results/stalled-client.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import WebSocket from 'ws'
import { spawnNode } from '../../test/support/process.js'
import { numberFlag } from './args.js'

const seconds = numberFlag('seconds', 15)
const receivers = numberFlag('receivers', 20)
const rate = numberFlag('rate', 500)
const blob = 'x'.repeat(numberFlag('bytes', 1024))

const node = await spawnNode({ WSHUB_RATE_LIMIT_ENABLED: 'false' })
const url = `ws://127.0.0.1:${node.port}/ws`

async function member(onFrame?: (f: any) => void): Promise<WebSocket> {
  const socket = new WebSocket(url)
  await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)))
  await new Promise<void>((resolve) => {
    socket.on('message', (raw: Buffer) => {
      const f = JSON.parse(raw.toString())
      if (f.message_type === 'room_joined') resolve()
      else onFrame?.(f)
    })
    socket.send(JSON.stringify({ message_type: 'join_room', data: { room_id: 'latency' } }))
  })
  return socket
}

let samples: number[] = []
const sockets: WebSocket[] = []
// Delivery latency, and its part after the node stamped the message (Date.now(): one clock on one machine).
let outbound: number[] = []
for (let i = 0; i < receivers; i++) {
  sockets.push(
    await member((f) => {
      if (f.message_type !== 'room_message') return
      samples.push(performance.now() - f.data.content.t)
      outbound.push(Date.now() - f.timestamp)
    }),
  )
}
const sender = await member()

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0 ? NaN : Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 100) / 100
}

async function phase(seconds: number): Promise<{ messages: number; p50_ms: number; p99_ms: number; max_ms: number; after_node_p99_ms: number }> {
  samples = []
  outbound = []
  const every = 1000 / rate
  const started = performance.now()
  let sent = 0
  while (performance.now() - started < seconds * 1000) {
    const due = Math.floor((performance.now() - started) / every)
    for (; sent < due; sent++) sender.send(JSON.stringify({ message_type: 'room_message', data: { room_id: 'latency', content: { t: performance.now(), blob } } }))
    await new Promise((r) => setTimeout(r, 2))
  }
  await new Promise((r) => setTimeout(r, 500))
  const sorted = samples.slice().sort((a, b) => a - b)
  return { messages: sent, p50_ms: percentile(sorted, 50), p99_ms: percentile(sorted, 99), max_ms: percentile(sorted, 100), after_node_p99_ms: percentile(outbound.sort((a, b) => a - b), 99) }
}

await phase(3) // warm-up: JIT and socket buffers, not measured
const baseline = await phase(seconds)
let stalledClosed: number | null = null
const stalled = await member()
stalled.on('close', (code) => (stalledClosed = code))
;(stalled as unknown as { _socket: { pause(): void } })._socket.pause()
const stalledAt = performance.now()
const withStalled = await phase(seconds)
const result = {
  receivers,
  rate_per_s: rate,
  payload_bytes: blob.length,
  seconds_per_phase: seconds,
  without_stalled: baseline,
  with_stalled: withStalled,
  p99_ratio: Math.round((withStalled.p99_ms / baseline.p99_ms) * 100) / 100,
  stalled_client_closed: stalledClosed,
  stalled_phase_s: Math.round((performance.now() - stalledAt) / 100) / 10,
}
console.log(JSON.stringify(result, null, 2))
mkdirSync('bench/results', { recursive: true })
writeFileSync('bench/results/stalled-client.json', `${JSON.stringify(result, null, 2)}\n`)
for (const s of [...sockets, sender, stalled]) s.terminate()
node.child.kill('SIGTERM')
await node.exited
