/**
 * Closes connections when their tokens expire, with one timer for all of them: items are
 * kept in buckets of equal expiry (a JWT `exp` has one-second resolution, so at most one
 * bucket per second), and the timer is armed for the earliest bucket only. Moving an
 * item (a token refresh) is two Set operations.
 */
const MAX_DELAY = 2 ** 31 - 1

/**
 * @example
 * ```ts
 * const wheel = new ExpiryWheel<Connection>((client) => client.close(4001, 'token expired'))
 * wheel.set(client, client.expiresAt)   // again after a refresh; wheel.delete(client) on disconnect
 * ```
 */
export class ExpiryWheel<T> {
  private readonly buckets = new Map<number, Set<T>>()
  private readonly due = new Map<T, number>()
  private timer: NodeJS.Timeout | null = null
  private armedFor = Infinity

  constructor(private readonly onExpire: (item: T) => void) {
    this.fire = this.fire.bind(this)
  }

  /** Items waiting. */
  get size(): number {
    return this.due.size
  }

  /** Schedules (or moves) an item's expiry to `at` (ms since the epoch). */
  set(item: T, at: number): void {
    this.delete(item)
    let bucket = this.buckets.get(at)
    if (bucket === undefined) this.buckets.set(at, (bucket = new Set()))
    bucket.add(item)
    this.due.set(item, at)
    if (at < this.armedFor) this.arm(at)
  }

  delete(item: T): void {
    const at = this.due.get(item)
    if (at === undefined) return
    this.due.delete(item)
    const bucket = this.buckets.get(at)!
    bucket.delete(item)
    // The timer may stay armed for an emptied bucket: it then finds nothing and re-arms.
    if (bucket.size === 0) this.buckets.delete(at)
  }

  close(): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    this.armedFor = Infinity
    this.buckets.clear()
    this.due.clear()
  }

  private arm(at: number): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.armedFor = at
    this.timer = setTimeout(this.fire, Math.min(MAX_DELAY, Math.max(0, at - Date.now())))
    this.timer.unref()
  }

  private fire(): void {
    this.timer = null
    this.armedFor = Infinity
    const now = Date.now()
    let next = Infinity
    for (const [at, bucket] of this.buckets) {
      if (at > now) {
        if (at < next) next = at
        continue
      }
      this.buckets.delete(at)
      for (const item of bucket) {
        this.due.delete(item)
        this.onExpire(item)
      }
    }
    // onExpire may have scheduled something earlier already.
    if (next < this.armedFor) this.arm(next)
  }
}
