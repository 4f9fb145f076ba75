/**
 * A TCP proxy on a free loopback port in front of one server (a node's link to its
 * broker), which a test can make behave like a bad network while both ends stay up:
 *
 * - `delay(ms)`: every chunk goes through `ms` later, each way, in order (latency).
 * - `partition()`: nothing goes through either way and new connections are held, without
 *   a reset, as when packets are dropped; `heal()` lets what was held through, as TCP's
 *   retransmissions would (a peer that gave up meanwhile has closed its socket).
 * - `stall()`: the connections open now freeze for good (no byte, no RST, no FIN), while
 *   new ones work: only a timeout on the client's side can tell.
 * - `cut()`: every connection reset (RST) and new ones refused until `heal()`.
 *
 * TCP never loses bytes inside a live connection, so there is no mode that drops bytes:
 * a network that loses packets shows as a stall, then a recovery or a reset.
 */
import { createServer, connect, type Server, type Socket } from 'node:net'

type Mode = 'open' | 'partitioned' | 'cut'

interface Link {
  client: Socket
  upstream: Socket | null
  /** Frozen by `stall()`: nothing more goes through, ever. */
  stalled: boolean
  /** Chunks held while partitioned (or stalled), per direction. */
  held: Array<{ toUpstream: boolean; chunk: Buffer }>
  /** Chunks on their way (delayed), per direction, in order: a chunk never overtakes an earlier one, whatever the delay now. */
  inFlight: [Array<{ due: number; chunk: Buffer }>, Array<{ due: number; chunk: Buffer }>]
}

export class TcpProxy {
  private mode: Mode = 'open'
  private delayMs = 0
  private readonly links = new Set<Link>()
  /** Connections accepted while partitioned, opened upstream on `heal()`. */
  private readonly waiting: Link[] = []
  /** Closes made by one side while partitioned: the other side learns of them on `heal()`. */
  private readonly closing: Link[] = []

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly target: { host: string; port: number },
  ) {}

  /** Starts a proxy to `target` (`host:port`, or a redis:// or nats:// URL). */
  static async start(target: string): Promise<TcpProxy> {
    const url = new URL(target.includes('://') ? target : `tcp://${target}`)
    const to = { host: url.hostname, port: Number(url.port) }
    let proxy: TcpProxy | null = null
    const server = createServer((socket) => proxy!.accept(socket))
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(0, '127.0.0.1', () => resolve())
    })
    proxy = new TcpProxy(server, (server.address() as { port: number }).port, to)
    return proxy
  }

  /** The URL to give a client instead of the server's (same scheme). */
  url(scheme: 'redis' | 'nats'): string {
    return `${scheme}://127.0.0.1:${this.port}`
  }

  /** Open connections through the proxy. */
  get connections(): number {
    return this.links.size
  }

  delay(ms: number): void {
    this.delayMs = ms
  }

  partition(): void {
    this.mode = 'partitioned'
  }

  stall(): void {
    for (const link of this.links) link.stalled = true
  }

  cut(): void {
    this.mode = 'cut'
    for (const link of [...this.links]) this.drop(link, true)
    for (const link of this.waiting.splice(0)) this.drop(link, true)
  }

  /** Back to a working network: held bytes and held connections go through. */
  heal(): void {
    this.mode = 'open'
    for (const link of this.waiting.splice(0)) this.open(link)
    for (const link of this.links) {
      if (link.stalled) continue
      for (const { toUpstream, chunk } of link.held.splice(0)) this.forward(link, toUpstream, chunk)
    }
    for (const link of this.closing.splice(0)) this.drop(link, false)
  }

  async close(): Promise<void> {
    this.mode = 'open'
    this.closing.length = 0
    for (const link of [...this.links, ...this.waiting.splice(0)]) this.drop(link, false)
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private accept(client: Socket): void {
    if (this.mode === 'cut') {
      client.resetAndDestroy()
      return
    }
    const link: Link = { client, upstream: null, stalled: false, held: [], inFlight: [[], []] }
    this.links.add(link)
    client.on('data', (chunk: Buffer) => this.pass(link, true, chunk))
    client.on('error', () => this.drop(link, true))
    client.on('close', () => this.drop(link, false))
    if (this.mode === 'partitioned') this.waiting.push(link)
    else this.open(link)
  }

  private open(link: Link): void {
    const upstream = connect(this.target.port, this.target.host)
    link.upstream = upstream
    upstream.on('data', (chunk: Buffer) => this.pass(link, false, chunk))
    upstream.on('error', () => this.drop(link, true))
    upstream.on('close', () => this.drop(link, false))
    for (const { toUpstream, chunk } of link.held.splice(0)) this.forward(link, toUpstream, chunk)
  }

  private pass(link: Link, toUpstream: boolean, chunk: Buffer): void {
    if (link.stalled || this.mode === 'partitioned' || link.upstream === null) {
      // A stalled link keeps nothing: it never flows again.
      if (!link.stalled) link.held.push({ toUpstream, chunk })
      return
    }
    this.forward(link, toUpstream, chunk)
  }

  private forward(link: Link, toUpstream: boolean, chunk: Buffer): void {
    const queue = link.inFlight[toUpstream ? 0 : 1]
    if (this.delayMs === 0 && queue.length === 0) {
      this.write(link, toUpstream, chunk)
      return
    }
    // Due no earlier than the chunk before it: lowering the delay must not reorder the stream.
    const due = Math.max(performance.now() + this.delayMs, queue.at(-1)?.due ?? 0)
    queue.push({ due, chunk })
    if (queue.length === 1) this.flushLater(link, toUpstream)
  }

  private flushLater(link: Link, toUpstream: boolean): void {
    const queue = link.inFlight[toUpstream ? 0 : 1]
    const next = queue[0]
    if (next === undefined) return
    setTimeout(() => {
      while (queue.length > 0 && queue[0]!.due <= performance.now()) this.write(link, toUpstream, queue.shift()!.chunk)
      this.flushLater(link, toUpstream)
    }, Math.max(0, next.due - performance.now()))
  }

  private write(link: Link, toUpstream: boolean, chunk: Buffer): void {
    if (link.stalled || !this.links.has(link)) return
    const to = toUpstream ? link.upstream : link.client
    if (to !== null && !to.destroyed) to.write(chunk)
  }

  /** Ends both sides: with a reset (`reset`), or by closing (one side closed). */
  private drop(link: Link, reset: boolean): void {
    if (!reset && this.mode === 'partitioned' && this.links.has(link)) {
      if (!this.closing.includes(link)) this.closing.push(link)
      return
    }
    if (!this.links.delete(link)) return
    for (const socket of [link.client, link.upstream]) {
      if (socket === null || socket.destroyed) continue
      if (reset) socket.resetAndDestroy()
      else socket.end()
    }
  }
}
