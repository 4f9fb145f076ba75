/**
 * Reconnect delays: exponential backoff with full jitter, bounded. Full jitter spreads
 * the clients of a restarted server over the whole window instead of letting them come
 * back in waves at the same instants.
 */

/** The reconnect window: the first ceiling and the largest one. */
export interface BackoffOptions {
  /** Ceiling of the first delay, in ms. Default 500. */
  baseMs?: number
  /** Largest ceiling, in ms: no delay is ever longer. Default 20000. */
  maxMs?: number
}

export const DEFAULT_BACKOFF = { baseMs: 500, maxMs: 20_000 } as const

/**
 * The delay before reconnect attempt `attempt` (1 for the first): a uniformly random
 * value in `[0, min(maxMs, baseMs · 2^(attempt-1)))`.
 *
 * @example
 * ```ts
 * backoffDelay(3, { baseMs: 500, maxMs: 20000 })   // somewhere in [0, 2000)
 * ```
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const baseMs = options.baseMs ?? DEFAULT_BACKOFF.baseMs
  const maxMs = options.maxMs ?? DEFAULT_BACKOFF.maxMs
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1))
  // random() is in [0, 1); clamp anyway so an injected source cannot break the bound.
  return Math.floor(Math.min(Math.max(random(), 0), 0.999999) * ceiling)
}
