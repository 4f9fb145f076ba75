/**
 * Request dedup (PROTOCOL.md section 5): a request whose key was seen within
 * `dedup.window_ms` is not run again; the repeat, of any type, gets `ack` with
 * `"duplicate": true`, or the same error if the first failed. An integer `message_id`
 * is scoped to the connection; a string one to the user (the connection when anonymous).
 *
 * Integer ids, the common case, are remembered on the connection itself
 * (`ctx.client.data.dedupIds`, see `dedup/recent-ids.ts`): no string key per request and
 * nothing node-wide to hash into. String ids go into two expiring generations of keys,
 * rotated every `window_ms` or when the newer one holds `max_entries / 2` keys. Each kind
 * is bounded by `max_entries` per node (under heavy load the oldest ids are forgotten
 * before their window ends). In cluster mode, string ids of signed-in users are claimed
 * in the cluster state, so a retry after a reconnect to another node is caught too.
 *
 * A string id is claimed as pending before its request runs. A repeat that finds it
 * pending (the same user on two connections, or two nodes, at once) waits for the first
 * one's outcome, polling the key, for at most `dedup.pending_wait_ms`; past that it gets
 * 1004 and the key stays claimed, so a later retry gets the outcome. Integer ids need no
 * such wait: frames of one connection run one at a time, so the first has always ended.
 */
import type { Application, Middleware } from '../../lib/application.js'
import { ConfigError, type WshubConfig } from '../../lib/config.js'
import type { Context } from '../../lib/context.js'
import type { Next } from '../../lib/compose.js'
import { ErrorCode, isAppError } from '../../lib/errors.js'
import type { DedupOutcome, DedupPending } from '../../lib/cluster/state.js'
import { RecentIds, type SlotBudget } from './recent-ids.js'

export { RecentIds, type SlotBudget } from './recent-ids.js'

declare module '../../lib/connection.js' {
  interface ClientData {
    /** The integer request ids this connection sent within the dedup window. */
    dedupIds?: RecentIds
  }
}

/** The `dedup.*` config keys; any given here win over the app's config. */
export type DedupOptions = Partial<Omit<WshubConfig['dedup'], 'enabled'>>

const DUPLICATE = { status: 'ok', duplicate: true }
const OK: DedupOutcome = { ok: true }
const PENDING: DedupPending = { pending: true }
/** The first and the longest pause between two looks at a pending key. */
const FIRST_POLL_MS = 5
const MAX_POLL_MS = 100

/** What a claim finds: the first request's outcome, or pending while it runs. */
type Seen = DedupOutcome | DedupPending

function isPending(seen: Seen): seen is DedupPending {
  return (seen as DedupPending).pending === true
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

interface Entry {
  outcome: Seen
  at: number
}

/**
 * Keys seen recently, in two generations, at most `maxEntries` in all.
 *
 * @example
 * ```ts
 * const recent = new RecentRequests(60_000, 100_000)
 * recent.claim('c:abc:1', Date.now())   // null: first time (now pending)
 * recent.claim('c:abc:1', Date.now())   // { pending: true }
 * recent.settle('c:abc:1', { ok: true })
 * ```
 */
export class RecentRequests {
  private current = new Map<string, Entry>()
  private previous = new Map<string, Entry>()
  private startedAt = Date.now()

  constructor(
    private readonly windowMs: number,
    private readonly maxEntries: number,
  ) {}

  get size(): number {
    return this.current.size + this.previous.size
  }

  /** What a key seen within the window holds (its outcome, or pending), or null (and the key is remembered as pending). */
  claim(key: string, now: number): Seen | null {
    const seen = this.current.get(key) ?? this.previous.get(key)
    if (seen !== undefined && now - seen.at < this.windowMs) return seen.outcome
    if (now - this.startedAt >= this.windowMs || this.current.size >= this.maxEntries / 2) {
      this.previous = now - this.startedAt >= 2 * this.windowMs ? new Map() : this.current
      this.current = new Map()
      this.startedAt = now
    }
    this.current.set(key, { outcome: PENDING, at: now })
    return null
  }

  settle(key: string, outcome: DedupOutcome): void {
    const entry = this.current.get(key) ?? this.previous.get(key)
    if (entry !== undefined) entry.outcome = outcome
  }
}

function outcomeOf(err: unknown): DedupOutcome {
  return isAppError(err) ? { ok: false, code: err.code, message: err.message } : { ok: false, code: 1003, message: 'server error' }
}

/**
 * The dedup middleware.
 *
 * @example
 * ```ts
 * import { dedup } from 'wshub/middleware/dedup'
 * app.use(dedup({ window_ms: 30_000, max_entries: 50_000 }))
 * ```
 */
export function dedup(options: DedupOptions = {}): Middleware {
  if (typeof options !== 'object' || options === null) throw new TypeError('dedup(options): options must be an object of dedup.* keys')
  let windowMs: number
  let pendingWaitMs: number
  let recent: RecentRequests
  let budget: SlotBudget

  /** An integer id: scoped to the connection, remembered in its own ring. */
  async function connectionScoped(ctx: Context, next: Next, id: number): Promise<void> {
    // A slot starts as ok and only a failure is written: the connection's frames run one
    // at a time, so no repeat can find its first still running.
    const ids = (ctx.client.data.dedupIds ??= new RecentIds(budget, OK))
    const prior = ids.claim(id, Date.now(), windowMs)
    if (prior !== null) return answerRepeat(ctx, prior)
    try {
      await next()
    } catch (err) {
      ids.settle(id, outcomeOf(err))
      throw err
    }
  }

  // Not async itself: the common paths hand back the promise they make, without another one around it.
  const middleware: Middleware = function dedup(ctx: Context, next: Next): Promise<void> {
    const id = ctx.messageId
    if (id === null) return next()
    if (typeof id === 'number') return connectionScoped(ctx, next, id)
    return userScoped(ctx, next, id)
  }

  /** A string id: scoped to the user (the connection when anonymous), and to the cluster when shared. */
  async function userScoped(ctx: Context, next: Next, id: string): Promise<void> {
    const client = ctx.client
    let shared = client.userId !== null && ctx.app.config.cluster.bus !== 'memory'
    const key = client.userId !== null ? `u:${client.userId}:${id}` : `c:${client.id}:s:${id}`
    let seen: Seen | null = null
    if (shared) {
      try {
        seen = await ctx.app.state.dedupClaim(`dedup:${key}`, windowMs)
      } catch (err) {
        // The cluster state is out of reach: this node's memory still catches local repeats.
        ctx.log.warn({ err: (err as Error).message }, 'dedup: cluster state unavailable, checking this node only')
        shared = false
      }
    }
    if (!shared) seen = recent.claim(key, Date.now())
    if (seen !== null && isPending(seen)) seen = await firstOutcome(ctx, key, shared)
    // Null again when the key was forgotten while this repeat waited: it is now this request's own.
    if (seen !== null) return answerRepeat(ctx, seen)
    let outcome = OK
    try {
      await next()
    } catch (err) {
      outcome = outcomeOf(err)
      throw err
    } finally {
      if (!shared) recent.settle(key, outcome)
      else await ctx.app.state.dedupSettle(`dedup:${key}`, outcome, windowMs).catch((err) => ctx.log.warn({ err: (err as Error).message }, 'dedup: could not settle a request key'))
    }
  }

  /**
   * A repeat found its first request still running: looks at the key again, at growing
   * intervals, until the first settles or `pending_wait_ms` has passed (then pending).
   */
  async function firstOutcome(ctx: Context, key: string, shared: boolean): Promise<Seen | null> {
    const deadline = performance.now() + pendingWaitMs
    let pause = FIRST_POLL_MS
    for (;;) {
      const left = deadline - performance.now()
      if (left <= 0) return PENDING
      await sleep(Math.min(pause, left))
      // A state that stopped answering while we wait is asked again until the deadline.
      const seen = shared ? await ctx.app.state.dedupClaim(`dedup:${key}`, windowMs).catch(() => PENDING) : recent.claim(key, Date.now())
      if (seen === null || !isPending(seen)) return seen
      pause = Math.min(pause * 2, MAX_POLL_MS)
    }
  }

  function answerRepeat(ctx: Context, seen: Seen): void {
    if (isPending(seen)) {
      ctx.throw(ErrorCode.Timeout, `the first request with this message_id is still running after ${pendingWaitMs} ms; send it again later for its outcome`)
    }
    if (seen.ok) ctx.reply('ack', DUPLICATE)
    else ctx.throw(seen.code as ErrorCode, seen.message)
  }

  middleware.setup = (app: Application) => {
    const settings = { ...app.config.dedup, ...options }
    if (!Number.isSafeInteger(settings.window_ms) || settings.window_ms < 1) throw new ConfigError(`dedup.window_ms: must be an integer ≥ 1 (got ${settings.window_ms})`)
    if (!Number.isSafeInteger(settings.max_entries) || settings.max_entries < 2) throw new ConfigError(`dedup.max_entries: must be an integer ≥ 2 (got ${settings.max_entries})`)
    if (!Number.isSafeInteger(settings.pending_wait_ms) || settings.pending_wait_ms < 1) throw new ConfigError(`dedup.pending_wait_ms: must be an integer ≥ 1 (got ${settings.pending_wait_ms})`)
    windowMs = settings.window_ms
    pendingWaitMs = settings.pending_wait_ms
    recent = new RecentRequests(windowMs, settings.max_entries)
    budget = { used: 0, max: settings.max_entries }
    app.on('disconnect', (client) => client.data.dedupIds?.release())
  }
  return middleware
}
