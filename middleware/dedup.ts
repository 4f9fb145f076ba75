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
 */
import type { Application, Middleware } from '../lib/application.js'
import { ConfigError, type WshubConfig } from '../lib/config.js'
import type { Context } from '../lib/context.js'
import type { Next } from '../lib/compose.js'
import { isAppError, type ErrorCode } from '../lib/errors.js'
import type { DedupOutcome } from '../lib/cluster/state.js'
import { RecentIds, type SlotBudget } from './dedup/recent-ids.js'

export { RecentIds, type SlotBudget } from './dedup/recent-ids.js'

declare module '../lib/connection.js' {
  interface ClientData {
    /** The integer request ids this connection sent within the dedup window. */
    dedupIds?: RecentIds
  }
}

/** The `dedup.*` config keys; any given here win over the app's config. */
export type DedupOptions = Partial<Omit<WshubConfig['dedup'], 'enabled'>>

const DUPLICATE = { status: 'ok', duplicate: true }
const PENDING: DedupOutcome = { ok: true }

interface Entry {
  outcome: DedupOutcome
  at: number
}

/**
 * Keys seen recently, in two generations, at most `maxEntries` in all.
 *
 * @example
 * ```ts
 * const recent = new RecentRequests(60_000, 100_000)
 * recent.claim('c:abc:1', Date.now())   // null: first time (now pending)
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

  /** The earlier outcome of a key seen within the window, or null (and the key is remembered as pending). */
  claim(key: string, now: number): DedupOutcome | null {
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
  let recent: RecentRequests
  let budget: SlotBudget

  /** An integer id: scoped to the connection, remembered in its own ring. */
  async function connectionScoped(ctx: Context, next: Next, id: number): Promise<void> {
    const ids = (ctx.client.data.dedupIds ??= new RecentIds(budget, PENDING))
    const prior = ids.claim(id, Date.now(), windowMs)
    if (prior !== null) {
      if (prior.ok) ctx.reply('ack', DUPLICATE)
      else ctx.throw(prior.code as ErrorCode, prior.message)
      return
    }
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
    let prior: DedupOutcome | null = null
    if (shared) {
      try {
        prior = await ctx.app.state.dedupClaim(`dedup:${key}`, windowMs)
      } catch (err) {
        // The cluster state is out of reach: this node's memory still catches local repeats.
        ctx.log.warn({ err: (err as Error).message }, 'dedup: cluster state unavailable, checking this node only')
        shared = false
      }
    }
    if (!shared) prior = recent.claim(key, Date.now())
    if (prior !== null) {
      if (prior.ok) ctx.reply('ack', DUPLICATE)
      else ctx.throw(prior.code as ErrorCode, prior.message)
      return
    }
    let outcome: DedupOutcome = PENDING
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

  middleware.setup = (app: Application) => {
    const settings = { ...app.config.dedup, ...options }
    if (!Number.isSafeInteger(settings.window_ms) || settings.window_ms < 1) throw new ConfigError(`dedup.window_ms: must be an integer ≥ 1 (got ${settings.window_ms})`)
    if (!Number.isSafeInteger(settings.max_entries) || settings.max_entries < 2) throw new ConfigError(`dedup.max_entries: must be an integer ≥ 2 (got ${settings.max_entries})`)
    windowMs = settings.window_ms
    recent = new RecentRequests(windowMs, settings.max_entries)
    budget = { used: 0, max: settings.max_entries }
    app.on('disconnect', (client) => client.data.dedupIds?.release())
  }
  return middleware
}
