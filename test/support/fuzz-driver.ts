/**
 * Drives a live node with fuzz frames over real `ws` sockets and checks every answer
 * against the oracle of fuzz-frames.ts: a session sends a batch, then a sentinel ping,
 * and once the sentinel's pong is back (frames of one connection run in order) every
 * reply of the batch must be there. A bystander pair keeps talking through a room the
 * whole time. Shared by the fuzz tests and `npm run fuzz`.
 */
import WebSocket from 'ws'
import { expectationOf, type FuzzFrame } from './fuzz-frames.js'

/** Error codes of PROTOCOL.md section 4. */
const PROTOCOL_CODES = new Set([1000, 1001, 1002, 1003, 1004, 1005, 1006, 2000, 2001, 2002, 2003, 3000, 3001, 3002, 3003, 3004, 4000, 4001, 4002])
/** What must never reach a client: stack frames and the server's file paths. */
const INTERNALS = /\n\s+at |\/work\/|node_modules|\.ts:\d|\.js:\d/

/** What went wrong in a run; empty when the node answered everything as PROTOCOL.md says. */
export interface FuzzFailure {
  what: string
  frame?: string
}

function keyOf(id: unknown): string {
  return `${typeof id}:${String(id)}`
}

function show(frame: FuzzFrame): string {
  const text = frame.bytes.length > 300 ? `${frame.bytes.subarray(0, 300).toString('hex')}… (${frame.bytes.length} bytes)` : frame.bytes.toString('hex')
  return `${frame.binary ? 'binary' : 'text'} ${text}`
}

/** Checks one server frame's shape; returns why it is wrong, or null. */
export function checkServerFrame(raw: string): string | null {
  let frame: any
  try {
    frame = JSON.parse(raw)
  } catch {
    return `the server sent a frame that is not JSON: ${raw.slice(0, 200)}`
  }
  if (typeof frame !== 'object' || frame === null || typeof frame.message_type !== 'string' || !('data' in frame)) return `malformed server frame: ${raw.slice(0, 200)}`
  if (frame.message_type === 'error') {
    if (!PROTOCOL_CODES.has(frame.data?.code) || typeof frame.data?.message !== 'string') return `error frame without a protocol code and message: ${raw.slice(0, 200)}`
    if (INTERNALS.test(frame.data.message) || (frame.data.details !== undefined && INTERNALS.test(JSON.stringify(frame.data.details)))) {
      return `error frame leaks internals: ${raw.slice(0, 300)}`
    }
  }
  return null
}

/** One fuzzing connection. */
export class FuzzSession {
  clientId = ''
  closed: number | null = null
  private replies = new Map<string, any[]>()
  private bareErrors = new Map<number, number>()
  private sentinel = 0
  private sentinelWaiter: { key: string; resolve: () => void } | null = null
  readonly failures: FuzzFailure[] = []

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (raw: Buffer, isBinary: boolean) => this.onFrame(raw, isBinary))
    socket.on('close', (code: number) => {
      this.closed = code
      this.sentinelWaiter?.resolve()
    })
    socket.on('error', () => {})
  }

  /** Connects and waits for the welcome. */
  static async open(url: string): Promise<FuzzSession> {
    const session = new FuzzSession(new WebSocket(url))
    await new Promise<void>((resolve, reject) => {
      session.socket.once('error', reject)
      const check = setInterval(() => {
        if (session.clientId !== '') {
          clearInterval(check)
          resolve()
        }
      }, 2)
    })
    return session
  }

  private onFrame(raw: Buffer, isBinary: boolean): void {
    const text = raw.toString()
    if (isBinary) this.failures.push({ what: 'the server sent a binary frame' })
    const problem = checkServerFrame(text)
    if (problem !== null) {
      this.failures.push({ what: problem })
      return
    }
    const frame = JSON.parse(text)
    if (frame.message_type === 'welcome') {
      this.clientId = frame.data.client_id
      return
    }
    if ('request_id' in frame) {
      const key = keyOf(frame.request_id)
      if (this.sentinelWaiter !== null && key === this.sentinelWaiter.key) {
        this.sentinelWaiter.resolve()
        return
      }
      let list = this.replies.get(key)
      if (list === undefined) this.replies.set(key, (list = []))
      list.push(frame)
    } else if (frame.message_type === 'error') {
      this.bareErrors.set(frame.data.code, (this.bareErrors.get(frame.data.code) ?? 0) + 1)
    }
  }

  /**
   * Sends frames that keep the connection open (the caller routes close-expected ones
   * to {@link probeClose}), then a sentinel, and checks the answers. Resolves to false
   * when the node did not answer the sentinel within `timeoutMs` (a hang) or closed.
   */
  async runBatch(frames: readonly FuzzFrame[], maxPayload: number, timeoutMs = 20_000): Promise<boolean> {
    const requests = new Map<string, { count: number; envelope1001: number; frame: FuzzFrame }>()
    const bare = { 1001: 0, 1002: 0 }
    this.replies.clear()
    this.bareErrors.clear()
    for (const frame of frames) {
      const expected = expectationOf(frame, maxPayload)
      if (expected.kind === 'close') throw new Error('runBatch takes frames that keep the connection open; send this one with probeClose')
      const id = expected.kind === 'request' ? expected.id : expected.kind === 'envelope' ? expected.id : null
      if (id !== null) {
        const key = keyOf(id)
        const entry = requests.get(key) ?? { count: 0, envelope1001: 0, frame }
        entry.count++
        if (expected.kind === 'envelope') entry.envelope1001++
        requests.set(key, entry)
      } else if (expected.kind === 'envelope') bare[expected.code]++
      this.socket.send(frame.bytes, { binary: frame.binary })
    }
    const key = `sentinel-${++this.sentinel}`
    const answered = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs)
      this.sentinelWaiter = {
        key: keyOf(key),
        resolve: () => {
          clearTimeout(timer)
          resolve(this.closed === null)
        },
      }
      this.socket.send(JSON.stringify({ message_type: 'ping', message_id: key }))
    })
    this.sentinelWaiter = null
    if (!answered) {
      this.failures.push({ what: this.closed === null ? `no answer to the sentinel within ${timeoutMs} ms (hang)` : `the node closed the connection (${this.closed})` })
      return false
    }
    for (const [k, { count, envelope1001, frame }] of requests) {
      const got = this.replies.get(k) ?? []
      if (got.length !== count) this.failures.push({ what: `request ${k}: ${count} terminal repl${count === 1 ? 'y' : 'ies'} expected, ${got.length} received`, frame: show(frame) })
      else if (got.filter((f) => f.message_type === 'error' && f.data.code === 1001).length < envelope1001) {
        this.failures.push({ what: `request ${k}: an envelope error 1001 expected, got ${JSON.stringify(got).slice(0, 200)}`, frame: show(frame) })
      }
    }
    for (const k of this.replies.keys()) if (!requests.has(k)) this.failures.push({ what: `a reply to ${k}, which no frame of the batch asked for` })
    if ((this.bareErrors.get(1002) ?? 0) !== bare[1002]) this.failures.push({ what: `${bare[1002]} errors 1002 without request_id expected, ${this.bareErrors.get(1002) ?? 0} received` })
    if ((this.bareErrors.get(1001) ?? 0) < bare[1001]) this.failures.push({ what: `at least ${bare[1001]} errors 1001 without request_id expected, ${this.bareErrors.get(1001) ?? 0} received` })
    return this.failures.length === 0
  }

  close(): void {
    this.socket.terminate()
  }
}

/** Sends one frame that must close the connection on a fresh one; resolves to the close code seen (0 on timeout). */
export async function probeClose(url: string, frame: FuzzFrame, timeoutMs = 10_000): Promise<number> {
  const session = await FuzzSession.open(url)
  session.socket.send(frame.bytes, { binary: frame.binary })
  const until = Date.now() + timeoutMs
  while (session.closed === null && Date.now() < until) await new Promise((r) => setTimeout(r, 5))
  session.close()
  return session.closed ?? 0
}

/**
 * Two clients that keep talking through a room while the fuzz runs: one sends numbered
 * room messages (each with a message_id) and pings, the other receives. `stop()` waits
 * for the last answers and reports what was lost.
 */
export class Bystander {
  private sent = 0
  private acks = 0
  private pongs = 0
  private pings = 0
  private received: number[] = []
  private timer: NodeJS.Timeout | null = null

  private constructor(
    private readonly sender: WebSocket,
    private readonly receiver: WebSocket,
    readonly room: string,
  ) {}

  static async start(url: string, room = 'bystanders', periodMs = 10): Promise<Bystander> {
    const open = async () => {
      const socket = new WebSocket(url)
      await new Promise((resolve, reject) => (socket.once('open', resolve), socket.once('error', reject)))
      return socket
    }
    const [sender, receiver] = [await open(), await open()]
    const by = new Bystander(sender, receiver, room)
    const joined = (socket: WebSocket) =>
      new Promise<void>((resolve) => {
        socket.on('message', function onJoin(raw: Buffer) {
          if (JSON.parse(raw.toString()).message_type === 'room_joined') {
            socket.off('message', onJoin)
            resolve()
          }
        })
        socket.send(JSON.stringify({ message_type: 'join_room', data: { room_id: room }, message_id: 'join' }))
      })
    await Promise.all([joined(sender), joined(receiver)])
    sender.on('message', (raw: Buffer) => {
      const f = JSON.parse(raw.toString())
      if (f.message_type === 'ack') by.acks++
      else if (f.message_type === 'pong') by.pongs++
    })
    receiver.on('message', (raw: Buffer) => {
      const f = JSON.parse(raw.toString())
      if (f.message_type === 'room_message') by.received.push(f.data.content.seq)
      else if (f.message_type === 'pong') by.pongs++
    })
    by.timer = setInterval(() => {
      by.sender.send(JSON.stringify({ message_type: 'room_message', data: { room_id: room, content: { seq: by.sent } }, message_id: by.sent + 1 }))
      by.sent++
      if (by.sent % 10 === 0) {
        by.pings += 2
        by.sender.send(JSON.stringify({ message_type: 'ping', data: { ts: by.sent } }))
        by.receiver.send(JSON.stringify({ message_type: 'ping', data: { ts: by.sent } }))
      }
    }, periodMs)
    return by
  }

  /** Stops sending, waits up to `timeoutMs` for the last answers, and reports. */
  async stop(timeoutMs = 10_000): Promise<{ sent: number; delivered: number; inOrder: boolean; acks: number; pings: number; pongs: number; open: boolean }> {
    clearInterval(this.timer!)
    const until = Date.now() + timeoutMs
    while ((this.received.length < this.sent || this.acks < this.sent || this.pongs < this.pings) && Date.now() < until) await new Promise((r) => setTimeout(r, 10))
    const inOrder = this.received.every((seq, i) => seq === i)
    const open = this.sender.readyState === WebSocket.OPEN && this.receiver.readyState === WebSocket.OPEN
    this.sender.terminate()
    this.receiver.terminate()
    return { sent: this.sent, delivered: this.received.length, inOrder, acks: this.acks, pings: this.pings, pongs: this.pongs, open }
  }
}

/** A `gc()` for heap measurements: the real one when node runs with --expose-gc, else one turned on now. */
export async function exposeGc(): Promise<() => void> {
  const g = globalThis as { gc?: () => void }
  if (typeof g.gc === 'function') return g.gc
  const { setFlagsFromString } = await import('node:v8')
  const { runInNewContext } = await import('node:vm')
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
}

/** Heap used after full collections, in bytes. */
export async function settledHeap(gc: () => void): Promise<number> {
  for (let i = 0; i < 3; i++) {
    gc()
    await new Promise((r) => setImmediate(r))
  }
  return process.memoryUsage().heapUsed
}
