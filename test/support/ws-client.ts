/**
 * A test client over a real `ws` socket: it queues every frame it receives, so a test
 * can await the next frame of a type, or the reply to a request.
 */
import WebSocket from 'ws'

export interface Frame {
  message_type: string
  data: any
  request_id?: number | string
  timestamp?: number
}

export class TestClient {
  readonly frames: Frame[] = []
  private waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }> = []
  closed: { code: number; reason: string } | null = null
  private closeWaiters: Array<(c: { code: number; reason: string }) => void> = []
  welcome!: Frame
  private counter = 0

  constructor(readonly socket: WebSocket) {
    socket.on('message', (raw, isBinary) => {
      if (isBinary) return
      const frame = JSON.parse(raw.toString()) as Frame
      const i = this.waiters.findIndex((w) => w.match(frame))
      if (i !== -1) {
        const [w] = this.waiters.splice(i, 1)
        clearTimeout(w!.timer)
        w!.resolve(frame)
      } else this.frames.push(frame)
    })
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() }
      for (const w of this.closeWaiters) w(this.closed)
      for (const w of this.waiters) {
        clearTimeout(w.timer)
        w.reject(new Error(`socket closed (${code}) while waiting for a frame`))
      }
      this.waiters = []
    })
    socket.on('error', () => {})
  }

  /** Connects and waits for the `welcome`. */
  static async connect(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}): Promise<TestClient> {
    const socket = new WebSocket(url, options.protocols ?? [], options)
    const client = new TestClient(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('error', reject)
      socket.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })))
    })
    client.welcome = await client.next('welcome')
    return client
  }

  get id(): string {
    return this.welcome.data.client_id
  }

  /** The next frame that matches (a type, or a predicate), taking it from the queue. */
  next(match: string | ((f: Frame) => boolean), timeoutMs = 3000): Promise<Frame> {
    const fn = typeof match === 'string' ? (f: Frame) => f.message_type === match : match
    const i = this.frames.findIndex(fn)
    if (i !== -1) return Promise.resolve(this.frames.splice(i, 1)[0]!)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer)
        reject(new Error(`no frame matching ${typeof match === 'string' ? match : 'predicate'} within ${timeoutMs} ms; queued: ${JSON.stringify(this.frames.map((f) => f.message_type))}`))
      }, timeoutMs)
      this.waiters.push({ match: fn, resolve, reject, timer })
    })
  }

  send(frame: unknown): void {
    this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame))
  }

  /** Sends a request with a fresh integer `message_id` and resolves to the frame answering it (within `timeoutMs`). */
  request(type: string, data?: unknown, messageId: number | string = ++this.counter, timeoutMs = 3000): Promise<Frame> {
    this.send({ message_type: type, data, message_id: messageId })
    return this.next((f) => f.request_id === messageId, timeoutMs)
  }

  /** Resolves with the close code once the socket is closed. */
  waitClose(timeoutMs = 3000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed)
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('socket did not close in time')), timeoutMs)
      this.closeWaiters.push((c) => {
        clearTimeout(timer)
        resolve(c)
      })
    })
  }

  /** Asserts nothing more arrives for a while; resolves to whatever did. */
  async quiet(ms = 150): Promise<Frame[]> {
    await new Promise((r) => setTimeout(r, ms))
    return this.frames.splice(0)
  }

  close(): void {
    this.socket.close()
  }
}
