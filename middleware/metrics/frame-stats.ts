/**
 * Per-frame counts kept as plain numbers: frames in and the chain's duration by message
 * type, frames out by type and bytes out. The hot path does a map lookup (cached per
 * type, or per outbound frame) and a few additions; prom-client sees the totals only at
 * scrape time (`collectors.ts` hands them over in its `collect()` callbacks), so no label
 * set is validated or hashed per frame.
 */

/** Distinct values one label may take before the rest are counted as `other`. */
export const MAX_LABEL_VALUES = 256
const TYPE_OFFSET = '{"message_type":"'.length

/** The duration buckets, in seconds. */
export const DURATION_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]

/** What one inbound message type counted. */
export class TypeStats {
  framesIn = 0
  /** Observations per bucket, not cumulative; the last slot is `+Inf`. */
  readonly buckets = new Array<number>(DURATION_BUCKETS.length + 1).fill(0)
  sum = 0
  count = 0

  constructor(readonly type: string) {}

  /** Records one chain duration, in seconds. */
  observe(seconds: number): void {
    let i = 0
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]!) i++
    this.buckets[i]!++
    this.sum += seconds
    this.count++
  }
}

/** Frames out of one message type. */
export interface OutCount {
  readonly type: string
  frames: number
}

/** The message type of an encoded outbound frame (every frame starts with `{"message_type":"`). */
function typeOfFrame(frame: string | Buffer): string {
  if (typeof frame === 'string') return frame.slice(TYPE_OFFSET, frame.indexOf('"', TYPE_OFFSET))
  return frame.toString('latin1', TYPE_OFFSET, frame.indexOf(0x22, TYPE_OFFSET))
}

/**
 * @example
 * ```ts
 * const stats = new FrameStats((type) => app.router.has(type))
 * const s = stats.inbound('ping'); s.framesIn++; s.observe(0.0002)
 * stats.sent('{"message_type":"pong","data":{}}')
 * ```
 */
export class FrameStats {
  /** By message type; types no route handles share `other`. */
  readonly in = new Map<string, TypeStats>()
  readonly out = new Map<string, OutCount>()
  bytesOut = 0
  private readonly other: TypeStats
  private lastFrame: string | Buffer | null = null
  private lastOut: OutCount | null = null

  constructor(private readonly known: (type: string) => boolean) {
    this.other = this.make('other')
  }

  /** The stats of an inbound type (`other` for a type no route handles, or past the label bound). */
  inbound(type: string): TypeStats {
    const stats = this.in.get(type)
    if (stats !== undefined) return stats
    // Unknown types are not cached: a route added later counts under its own name.
    if (!this.known(type) || this.in.size >= MAX_LABEL_VALUES) return this.other
    return this.make(type)
  }

  /** Counts one frame written to a client. A fan-out writes the same Buffer to every recipient: its type is read once. */
  sent(frame: string | Buffer): void {
    if (frame !== this.lastFrame) {
      this.lastFrame = frame
      this.lastOut = this.outbound(typeOfFrame(frame))
    }
    this.lastOut!.frames++
    this.bytesOut += typeof frame === 'string' ? Buffer.byteLength(frame) : frame.length
  }

  /** The stats of a type counted whether or not a route handles it (`invalid`, for frames refused at the envelope). */
  named(type: string): TypeStats {
    return this.in.get(type) ?? this.make(type)
  }

  private outbound(type: string): OutCount {
    let count = this.out.get(type)
    if (count === undefined) {
      if (this.out.size >= MAX_LABEL_VALUES) return this.outbound('other')
      this.out.set(type, (count = { type, frames: 0 }))
    }
    return count
  }

  private make(type: string): TypeStats {
    const stats = new TypeStats(type)
    this.in.set(type, stats)
    return stats
  }
}
