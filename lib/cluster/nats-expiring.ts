/**
 * The short-lived entries of the NATS state, each kind in its own KV bucket whose max
 * age drops what is no longer needed: dedup outcomes (`<p>_dedup`, max age = the dedup
 * window; each entry also carries its expiry, so a bucket made with another window stays
 * correct) and per-user token buckets (`<p>_rate`, `{tokens, at}`, idle ones dropped
 * after 10 min, when any sane bucket is full again anyway). Both are revision-checked
 * updates of one key; times are this node's clock.
 */
import type { KV, Kvm } from '@nats-io/kv'
import { bucketOptions, compareAndSet, token } from './nats-kv.js'
import type { DedupOutcome, DedupPending } from './state.js'

const RATE_BUCKET_AGE_MS = 10 * 60_000

export class NatsExpiring {
  private dedup: Promise<KV> | null = null
  private rate!: KV

  constructor(private readonly kvm: Kvm, private readonly name: string) {}

  /** Makes the buckets if the server has none (at start, and after a server came back without its data). */
  async ensure(): Promise<void> {
    this.rate = await this.kvm.create(`${this.name}_rate`, { ...bucketOptions, ttl: RATE_BUCKET_AGE_MS })
    this.dedup = null
  }

  private dedupBucket(ttlMs: number): Promise<KV> {
    // Its max age is the dedup window, known at the first claim; every node uses the same one.
    const name = `${this.name}_dedup`
    this.dedup ??= this.kvm
      .create(name, { ...bucketOptions, ttl: ttlMs })
      // Made earlier with another window: use it as it is (each entry carries its own expiry).
      .catch(() => this.kvm.open(name))
      .catch((err) => {
        this.dedup = null
        throw err
      })
    return this.dedup
  }

  async dedupClaim(key: string, ttlMs: number): Promise<DedupOutcome | DedupPending | null> {
    const kv = await this.dedupBucket(ttlMs)
    const now = Date.now()
    type Doc = { outcome: DedupOutcome | DedupPending; expires: number }
    return compareAndSet<Doc, DedupOutcome | DedupPending | null>(kv, token(key), (doc) =>
      doc !== null && doc.expires > now ? { result: doc.outcome } : { next: { outcome: { pending: true }, expires: now + ttlMs }, result: null },
    )
  }

  async dedupSettle(key: string, outcome: DedupOutcome, ttlMs: number): Promise<void> {
    const kv = await this.dedupBucket(ttlMs)
    await kv.put(token(key), JSON.stringify({ outcome, expires: Date.now() + ttlMs }))
  }

  takeToken(key: string, rate: number, burst: number): Promise<number> {
    type Bucket = { tokens: number; at: number }
    return compareAndSet<Bucket, number>(this.rate, token(key), (bucket) => {
      const now = Date.now()
      const tokens = bucket === null ? burst : Math.min(burst, bucket.tokens + ((now - bucket.at) * rate) / 1000)
      if (tokens >= 1) return { next: { tokens: tokens - 1, at: now }, result: 0 }
      return { next: { tokens, at: now }, result: Math.ceil(((1 - tokens) * 1000) / rate) }
    })
  }
}
