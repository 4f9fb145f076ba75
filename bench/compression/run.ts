/**
 * Compression benchmark: bytes on the wire and server CPU per delivery, with and without
 * `ws.compression`, for a room fan-out of chat-like JSON. For each payload and mode it
 * starts a fresh server process (target.ts), connects `--members` clients that offer
 * permessage-deflate (as browsers do) to one room, publishes `--messages` messages at
 * `--rate` per second, and reads the bytes the clients received (their sockets'
 * `bytesRead`) and the server's CPU time (/proc) over the window.
 *
 * The load generator (this process) inflates what it receives: keep members × rate within
 * what one process can read (the defaults offer 5,000 deliveries/s), or the bytes read
 * run ahead of the deliveries counted (the report's delivered/expected says so).
 *
 *   npm run bench:compression [-- --members 200 --messages 150 --rate 25 --rounds 3]
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, resolve } from 'node:path'
import { loadavg } from 'node:os'
import WebSocket from 'ws'
import { cpuSeconds, sleep } from '../support/proc.js'

const args = new Map<string, string>()
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '')
const MEMBERS = Number(args.get('members') ?? 200)
const MESSAGES = Number(args.get('messages') ?? 150)
const RATE = Number(args.get('rate') ?? 25)
const ROUNDS = Number(args.get('rounds') ?? 3)
const here = dirname(fileURLToPath(import.meta.url))

/** A chat message as a chat app sends it: text, author, time, a reaction or two; `lines` of them for the richer payload. */
function chatPayload(lines: number, seq: number) {
  const messages = Array.from({ length: lines }, (_, i) => ({
    id: `msg-${seq}-${i}`,
    author: { id: `user-${(seq + i) % 50}`, name: ['Alice Martin', 'Bob Chen', 'Carol Diaz', 'Dan Okafor'][(seq + i) % 4], avatar: `https://cdn.example.com/avatars/${(seq + i) % 50}.png` },
    text: ['sounds good, see you at the standup', 'did anyone look at the deploy logs from last night?', 'pushed the fix, can you review the PR when you have a minute', 'lunch at noon?'][(seq + i) % 4],
    sent_at: 1_765_000_000_000 + seq * 1000 + i,
    reactions: i % 2 === 0 ? [{ emoji: 'thumbsup', count: 2 }] : [],
  }))
  return { channel: 'team-general', messages }
}

interface Mode {
  name: string
  env: Record<string, string>
  route: 'publish' | 'publish_each'
}

const MODES: Mode[] = [
  { name: 'off', env: { WSHUB_WS_COMPRESSION_ENABLED: 'false' }, route: 'publish' },
  { name: 'on, deflated once per fan-out', env: { WSHUB_WS_COMPRESSION_ENABLED: 'true', WSHUB_WS_COMPRESSION_THRESHOLD: '128' }, route: 'publish' },
  { name: 'on, one ws.send per member', env: { WSHUB_WS_COMPRESSION_ENABLED: 'true', WSHUB_WS_COMPRESSION_THRESHOLD: '128' }, route: 'publish_each' },
]
const PAYLOADS = [
  { name: 'chat message (1 message)', lines: 1 },
  { name: 'chat page (10 messages)', lines: 10 },
]

async function startTarget(env: Record<string, string>): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [resolve(here, 'target.js')], { env: { ...process.env, ...env, WSHUB_WS_COMPRESSION_MAX_MEMORY_MB: '1024' }, stdio: ['ignore', 'pipe', 'inherit'] })
  const port = await new Promise<number>((done, fail) => {
    let out = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      const match = /port (\d+)/.exec(out)
      if (match) done(Number(match[1]))
    })
    child.once('exit', (code) => fail(new Error(`target exited with ${code}`)))
  })
  return { child, port }
}

function open(port: number): Promise<WebSocket> {
  return new Promise((done, fail) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: true })
    ws.once('open', () => done(ws))
    ws.once('error', fail)
  })
}

const bytesRead = (ws: WebSocket) => (ws as unknown as { _socket: { bytesRead: number } })._socket.bytesRead

async function run(mode: Mode, lines: number) {
  const { child, port } = await startTarget(mode.env)
  try {
    const members: WebSocket[] = []
    let delivered = 0
    for (let i = 0; i < MEMBERS; i++) {
      const ws = await open(port)
      await new Promise<void>((done) => {
        ws.on('message', (data) => {
          const text = data.toString()
          if (text.includes('"room_joined"')) done()
          else if (text.startsWith('{"message_type":"chat"')) delivered++
        })
        ws.send(JSON.stringify({ message_type: 'join_room', message_id: 1, data: { room_id: 'bench' } }))
      })
      members.push(ws)
    }
    const publisher = await open(port)
    await sleep(500)
    const expected = MESSAGES * MEMBERS
    const bytesBefore = members.reduce((sum, ws) => sum + bytesRead(ws), 0)
    const cpuBefore = cpuSeconds(child.pid!)
    const started = performance.now()
    for (let seq = 0; seq < MESSAGES; seq++) {
      publisher.send(JSON.stringify({ message_type: mode.route, data: chatPayload(lines, seq) }))
      const due = started + ((seq + 1) * 1000) / RATE
      const wait = due - performance.now()
      if (wait > 0) await sleep(wait)
    }
    const until = performance.now() + 30_000
    while (delivered < expected && performance.now() < until) await sleep(20)
    const cpu = cpuSeconds(child.pid!) - cpuBefore
    const bytes = members.reduce((sum, ws) => sum + bytesRead(ws), 0) - bytesBefore
    const payloadBytes = Buffer.byteLength(JSON.stringify(chatPayload(lines, 1)))
    for (const ws of [...members, publisher]) ws.terminate()
    return { delivered, expected, bytesPerDelivery: bytes / delivered, cpuUsPerDelivery: (cpu * 1e6) / delivered, payloadBytes }
  } finally {
    child.kill('SIGTERM')
    await new Promise((done) => child.once('exit', done))
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

console.log(`compression bench: ${MEMBERS} members, ${MESSAGES} messages at ${RATE}/s, ${ROUNDS} rounds (interleaved); load average at start ${loadavg().map((n) => n.toFixed(2)).join(' ')}`)
for (const payload of PAYLOADS) {
  const results = new Map<string, Array<Awaited<ReturnType<typeof run>>>>()
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of MODES) {
      const result = await run(mode, payload.lines)
      results.set(mode.name, [...(results.get(mode.name) ?? []), result])
    }
  }
  const off = results.get('off')!
  const base = { bytes: median(off.map((r) => r.bytesPerDelivery)), cpu: median(off.map((r) => r.cpuUsPerDelivery)) }
  console.log(`\n${payload.name}: ${off[0]!.payloadBytes} B of JSON content\n`)
  console.log('| mode | bytes on the wire per delivery | server CPU µs per delivery | delivered/expected |')
  console.log('| --- | ---: | ---: | ---: |')
  for (const mode of MODES) {
    const runs = results.get(mode.name)!
    const bytes = median(runs.map((r) => r.bytesPerDelivery))
    const cpu = median(runs.map((r) => r.cpuUsPerDelivery))
    const ratio = median(runs.map((r) => r.delivered / r.expected))
    console.log(`| ${mode.name} | ${bytes.toFixed(0)} (${(bytes / base.bytes).toFixed(2)}×) | ${cpu.toFixed(2)} (${(cpu / base.cpu).toFixed(2)}×) | ${ratio.toFixed(3)} |`)
  }
}
console.log(`\nload average at end ${loadavg().map((n) => n.toFixed(2)).join(' ')}`)
