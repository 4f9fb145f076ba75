/**
 * Composes middleware into one function, with the koa-compose contract: each step runs
 * in order until `await next()`, then in reverse after it; an error propagates to the
 * caller; calling `next()` twice rejects; an empty chain resolves; the composed function
 * is itself a middleware.
 */

/** Calls the rest of the chain. */
export type Next = () => Promise<void>

/** One step of a chain. */
export type ChainStep<C> = (ctx: C, next: Next) => unknown

/** A composed chain: call it with a context, and optionally the step that follows it. */
export type Composed<C> = (ctx: C, next?: Next) => Promise<void>

/**
 * @example
 * ```ts
 * const chain = compose([async (ctx, next) => { ctx.n++; await next() }, (ctx) => { ctx.n *= 10 }])
 * const ctx = { n: 1 }; await chain(ctx)   // ctx.n === 20
 * ```
 */
export function compose<C>(steps: readonly ChainStep<C>[]): Composed<C> {
  if (!Array.isArray(steps)) throw new TypeError('compose: the middleware list must be an array')
  for (const [i, step] of steps.entries()) {
    if (typeof step !== 'function') throw new TypeError(`compose: middleware #${i} must be a function, got ${typeof step}`)
  }
  const chain = steps.slice()
  const length = chain.length

  return function composed(ctx: C, last?: Next): Promise<void> {
    let reached = -1
    function dispatch(i: number): Promise<void> {
      if (i <= reached) return Promise.reject(new Error('next() called multiple times in one middleware'))
      reached = i
      const step = i < length ? chain[i] : last
      if (step === undefined) return Promise.resolve()
      try {
        return Promise.resolve(step(ctx, dispatch.bind(null, i + 1))) as Promise<void>
      } catch (err) {
        return Promise.reject(err)
      }
    }
    return dispatch(0)
  }
}
