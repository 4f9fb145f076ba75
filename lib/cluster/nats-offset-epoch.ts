/**
 * The offset epoch in the NATS state bucket (key `offset-epoch`), by the rule of the
 * Redis script `epochOf` (redis-scripts.ts): every history counter starts at the epoch's
 * base when it is made; a fresh cluster's base is 0, so offsets count from 1. When the
 * key is missing, or is neither the epoch this node knew nor a later one, the state was
 * lost since (a server that came back without its JetStream data): the new base is the
 * time in microseconds, above every offset given before the loss.
 *
 * JetStream KV checks one key at a time, so the epoch cannot be checked in the same step
 * as the counter, as the Redis script does. A node checks it when it (re)connects, before
 * it serves again (a server that came back empty is a reconnect), and again just before
 * it makes a room's counter (another node may have set a new epoch meanwhile). What is
 * left: a counter made by an append that was under way while the server restarted empty.
 */
import type { KV } from '@nats-io/kv'
import { compareAndSet } from './nats-kv.js'

export interface OffsetEpoch {
  base: number
  /** When it was written (µs): tells two epochs of the same base apart. */
  stamp: number
}

/** The epoch to count from, given the bucket's and the one this node knows (null: none yet). */
function settle(current: OffsetEpoch | null, known: OffsetEpoch | null, nowUs: number): OffsetEpoch {
  if (current !== null && (known === null || current.base > known.base || (current.base === known.base && current.stamp === known.stamp))) return current
  return { base: known === null ? 0 : Math.max(nowUs, known.base + 1), stamp: nowUs }
}

/** Reads the epoch, writing a new one where the state lost it since `known`. */
export function learnOffsetEpoch(kv: KV, known: OffsetEpoch | null): Promise<OffsetEpoch> {
  return compareAndSet<OffsetEpoch, OffsetEpoch>(kv, 'offset-epoch', (current) => {
    const epoch = settle(current, known, Date.now() * 1000)
    return epoch === current ? { result: epoch } : { next: epoch, result: epoch }
  })
}
