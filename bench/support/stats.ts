/**
 * Latency histograms that merge across processes, and the few summary statistics the
 * report needs. Buckets grow by 2 % from 1 µs, so a percentile is within 2 % of the
 * truth whatever the range, and a histogram crosses IPC as a short sparse list.
 */

const MIN_MS = 0.001
const GROWTH = Math.log(1.02)
const BUCKETS = 1000 // 1 µs × 1.02^1000 ≈ 400 s

/** A sparse histogram as it crosses IPC: [bucket, count] pairs. */
export type HistogramData = Array<[number, number]>

export class Histogram {
  private readonly counts = new Float64Array(BUCKETS)
  count = 0

  record(ms: number): void {
    const i = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / GROWTH))
    this.counts[i]!++
    this.count++
  }

  reset(): void {
    this.counts.fill(0)
    this.count = 0
  }

  merge(data: HistogramData): this {
    for (const [i, n] of data) {
      this.counts[i]! += n
      this.count += n
    }
    return this
  }

  toJSON(): HistogramData {
    const out: HistogramData = []
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] !== 0) out.push([i, this.counts[i]!])
    return out
  }

  /** The value below which a fraction `q` (0..1) of the samples fall, in ms; NaN when empty. */
  percentile(q: number): number {
    if (this.count === 0) return Number.NaN
    const rank = Math.max(1, Math.ceil(q * this.count))
    let seen = 0
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!
      if (seen >= rank) return MIN_MS * Math.exp(i * GROWTH)
    }
    return Number.NaN
  }
}

export function median(values: readonly number[]): number {
  const finite = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b)
  if (finite.length === 0) return Number.NaN
  const mid = finite.length >> 1
  return finite.length % 2 === 1 ? finite[mid]! : (finite[mid - 1]! + finite[mid]!) / 2
}

/** Least-squares line through points, with r². */
export function linearFit(points: ReadonlyArray<[number, number]>): { slope: number; intercept: number; r2: number } {
  const n = points.length
  const mx = points.reduce((s, [x]) => s + x, 0) / n
  const my = points.reduce((s, [, y]) => s + y, 0) / n
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my)
    sxx += (x - mx) ** 2
    syy += (y - my) ** 2
  }
  const slope = sxx === 0 ? 0 : sxy / sxx
  const r2 = sxx === 0 || syy === 0 ? 1 : (sxy * sxy) / (sxx * syy)
  return { slope, intercept: my - slope * mx, r2 }
}

/** Milliseconds on the monotonic clock, which every process on the machine shares. */
export function monoMs(): number {
  const [s, ns] = process.hrtime()
  return s * 1e3 + ns / 1e6
}
