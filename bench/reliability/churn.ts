/**
 * `npm run churn -- [--cycles N] [--rounds R]`: a leak check for connection churn. An
 * in-process node (the memory state, then a Redis state on a redis-server of its own)
 * takes rounds of N connections that each connect, join a room, send a room message with
 * an ack, and close; after each round the heap is measured after a full GC. A leak per
 * connection shows as a heap that grows with the rounds; the figure printed is the growth
 * from the second round to the last, per cycle.
 */
import WebSocket from 'ws'
import { createApp, type ConfigInput } from '../../lib/index.js'
import { startRedis } from '../../test/support/services.js'
import { numberFlag } from './args.js'

const cycles = numberFlag('cycles', 2000)
const rounds = Math.max(3, numberFlag('rounds', 6))
const IN_FLIGHT = 50

if (typeof globalThis.gc !== 'function') {
  console.error('run with node --expose-gc (npm run churn does)')
  process.exit(2)
}
const gc = globalThis.gc as () => void

function heapAfterGc(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

function nextFrame(ws: WebSocket): Promise<void> {
  return new Promise((resolve) => ws.once('message', () => resolve()))
}

async function cycle(port: number, i: number): Promise<void> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`)
  await nextFrame(ws)
  const room = `r${i % 8}`
  ws.send(JSON.stringify({ message_type: 'join_room', message_id: 1, data: { room_id: room } }))
  await nextFrame(ws)
  ws.send(JSON.stringify({ message_type: 'room_message', message_id: 2, data: { room_id: room, content: 'x' } }))
  await nextFrame(ws)
  ws.close()
  await new Promise((resolve) => ws.once('close', resolve))
}

async function run(name: string, cluster: ConfigInput['cluster']): Promise<void> {
  const app = createApp({ http: { host: '127.0.0.1', port: 0 }, log: { level: 'warn' }, rooms: { history_size: 50 }, cluster })
  const { port } = await app.listen()
  const heaps: number[] = []
  let n = 0
  for (let round = 0; round < rounds; round++) {
    for (let done = 0; done < cycles; done += IN_FLIGHT) {
      await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, cycles - done) }, () => cycle(port, n++)))
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
    heaps.push(heapAfterGc())
    console.log(`${name}: ${n} cycles, heap ${(heaps.at(-1)! / 1e6).toFixed(2)} MB, connections ${app.server.size}`)
  }
  await app.close()
  const perCycle = (heaps.at(-1)! - heaps[1]!) / (cycles * (rounds - 2))
  console.log(`${name}: heap growth from round 2 to ${rounds}: ${perCycle.toFixed(1)} B per cycle`)
}

await run('memory', { bus: 'memory' })
const redis = await startRedis()
try {
  await run('redis', { bus: 'redis', redis: { url: redis.url } })
} finally {
  await redis.close()
}
process.exit(0)
