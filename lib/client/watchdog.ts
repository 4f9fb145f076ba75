/**
 * Notices a dead server. The server pings every `heartbeat_ms` (its `welcome` says how
 * often); when nothing at all (no frame, no ping) has arrived for `heartbeat_ms` plus a
 * margin, the connection is taken as dead. Where pings are invisible (browsers), an
 * application `ping` goes out once the line has been quiet for half the interval, so a
 * live server always has something to answer.
 */

/** The time source; tests inject one. */
export interface Clock {
  now(): number
  setInterval(fn: () => void, ms: number): unknown
  clearInterval(handle: unknown): void
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (handle) => clearInterval(handle as ReturnType<typeof setInterval>),
}

/** The default margin: half the interval, at most 10 s. */
export function defaultMargin(heartbeatMs: number): number {
  return Math.min(10_000, Math.ceil(heartbeatMs / 2))
}

export class Watchdog {
  private timer: unknown = null
  private lastSeen = 0
  private pingedAt = 0
  private heartbeatMs = 0
  private marginMs = 0
  private pingsVisible = false

  constructor(
    private readonly onDead: () => void,
    private readonly sendPing: () => void,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Starts watching a connection whose server pings every `heartbeatMs`. */
  start(heartbeatMs: number, marginMs: number, pingsVisible: boolean): void {
    this.stop()
    this.heartbeatMs = heartbeatMs
    this.marginMs = marginMs
    this.pingsVisible = pingsVisible
    this.lastSeen = this.clock.now()
    this.pingedAt = 0
    const every = Math.max(10, Math.floor(Math.min(heartbeatMs, marginMs) / 2))
    this.timer = this.clock.setInterval(() => this.check(), every)
  }

  /** Something arrived from the server. Called per frame: one clock read. */
  touch(): void {
    this.lastSeen = this.clock.now()
  }

  stop(): void {
    if (this.timer === null) return
    this.clock.clearInterval(this.timer)
    this.timer = null
  }

  /** One check (the timer calls it; tests may too). */
  check(): void {
    if (this.timer === null) return
    const now = this.clock.now()
    const quiet = now - this.lastSeen
    if (quiet > this.heartbeatMs + this.marginMs) {
      this.stop()
      this.onDead()
      return
    }
    if (!this.pingsVisible && quiet >= this.heartbeatMs / 2 && this.pingedAt <= this.lastSeen) {
      this.pingedAt = now
      this.sendPing()
    }
  }
}
