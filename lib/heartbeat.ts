/**
 * Heartbeats (PROTOCOL.md section 8, `heartbeat.*`): every connection is pinged once per
 * interval, and one from which nothing (no pong, no frame) has arrived within the
 * timeout after a ping is dropped.
 *
 * One timer for all connections, ticking every 100 ms (or every interval, if shorter):
 * each tick pings the next slice of the round, so a round of 20,000 sockets is 300
 * slices of about 70 pings rather than one loop that blocks the event loop for 400 ms;
 * and each tick drops the connections whose ping, a whole timeout ago, went unanswered.
 * Pings are remembered in the order they went out (a queue of connection and time), so
 * finding who is due costs nothing per connection that is not.
 */
import type { Connection } from './connection.js'

const TICK_MS = 100

/**
 * @example
 * ```ts
 * const heartbeat = new Heartbeat(server.connections, 30_000, 10_000, (conn) => conn.close(1006, 'heartbeat timeout', true))
 * heartbeat.start()   // heartbeat.stop() on drain
 * ```
 */
export class Heartbeat {
  private readonly tickMs: number
  private timer: NodeJS.Timeout | null = null
  private round: IterableIterator<Connection> | null = null
  private roundStart = -Infinity
  private pinged = 0
  // Pings awaiting their timeout, oldest first: `sent[i]` went to `waiting[i]`.
  private waiting: Connection[] = []
  private sent: number[] = []
  private head = 0

  constructor(
    private readonly connections: ReadonlyMap<string, Connection>,
    private readonly intervalMs: number,
    private readonly timeoutMs: number,
    private readonly onMissed: (conn: Connection) => void,
  ) {
    this.tickMs = Math.max(1, Math.min(TICK_MS, intervalMs))
  }

  start(): void {
    // The first round starts one interval from now, as a single interval timer's would.
    this.roundStart = performance.now()
    this.timer = setInterval(() => this.tick(performance.now()), this.tickMs)
    this.timer.unref()
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  /** One tick: ping the slice of the round that is due, then drop whoever stayed silent a whole timeout after a ping. */
  tick(now: number): void {
    this.pingDue(now)
    this.dropSilent(now)
  }

  private pingDue(now: number): void {
    if (this.round === null) {
      if (now - this.roundStart < this.intervalMs) return
      this.round = this.connections.values()
      this.roundStart = now
      this.pinged = 0
    }
    // The share of the round due by the end of this tick, of the connections there are now:
    // those that came during the round are at the end of the map's order, and counting them
    // spreads them over the ticks left instead of piling them onto the last one. All that
    // is left goes on the round's last tick.
    const elapsed = now - this.roundStart + this.tickMs
    const due = elapsed >= this.intervalMs ? Infinity : Math.ceil((this.connections.size * elapsed) / this.intervalMs)
    while (this.pinged < due) {
      const next = this.round.next()
      if (next.done === true) {
        this.round = null
        return
      }
      this.ping(next.value, now)
      this.pinged++
    }
  }

  private ping(conn: Connection, now: number): void {
    if (conn.closeInfo !== null) return
    // Only the first unanswered ping counts: a client silent since then is measured from it.
    if (conn.alive) {
      conn.alive = false
      conn.silentSince = now
    }
    conn.socket.ping()
    this.waiting.push(conn)
    this.sent.push(now)
  }

  private dropSilent(now: number): void {
    const { waiting, sent, timeoutMs } = this
    let head = this.head
    while (head < waiting.length && now - sent[head]! >= timeoutMs) {
      const conn = waiting[head]!
      const at = sent[head]!
      head++
      // Silent since this ping or an earlier one: a whole timeout has passed since.
      if (!conn.alive && conn.closeInfo === null && conn.silentSince <= at) this.onMissed(conn)
    }
    if (head > 1024 && head * 2 > waiting.length) {
      this.waiting = waiting.slice(head)
      this.sent = sent.slice(head)
      head = 0
    }
    this.head = head
  }
}
