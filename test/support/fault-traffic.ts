/**
 * Room traffic across a process cluster while a fault is injected, and the accounting
 * of what each receiver got: live deliveries (a message delivered twice live is a
 * duplicate), messages the sender had acked but a receiver missed, and what a receiver
 * recovers by joining again with `since` (PROTOCOL.md section 3, history). Shared by
 * test/integration/cluster-fault-recovery.test.ts and `npm run faults`.
 */
import type { TestClient } from './ws-client.js'

/** How long a request of the recovery waits for its answer: longer than a state call may take (5 s). */
const RECOVER_WAIT_MS = 15_000

/** One receiver's view of the room. */
export class Receiver {
  /** seq → how many times it arrived live. */
  readonly live = new Map<number, number>()
  /** Every message seen, live or replayed. */
  readonly seen = new Set<number>()
  /** seq → offset, for every message seen with one. */
  readonly offsets = new Map<number, number>()
  /** Messages seen without an offset: the room's history could not keep them (the state was out of reach). */
  readonly withoutOffset = new Set<number>()
  /** ms (performance.now()) of each live arrival, by seq. */
  readonly arrivedAt = new Map<number, number>()
  recovered: boolean | null = null
  replayed = 0

  constructor(
    public client: TestClient,
    readonly room: string,
  ) {
    this.listen(client)
  }

  /** Follows a new connection of this receiver (after its node died). */
  listen(client: TestClient): void {
    this.client = client
    client.socket.on('message', (raw: Buffer) => {
      const f = JSON.parse(raw.toString())
      if (f.message_type !== 'room_message' || f.data.room_id !== this.room || typeof f.data.content?.seq !== 'number') return
      const seq = f.data.content.seq as number
      this.seen.add(seq)
      if (typeof f.data.offset === 'number') this.offsets.set(seq, f.data.offset)
      else this.withoutOffset.add(seq)
      if (this.replaying) {
        this.replayed++
        return
      }
      this.live.set(seq, (this.live.get(seq) ?? 0) + 1)
      if (!this.arrivedAt.has(seq)) this.arrivedAt.set(seq, performance.now())
    })
  }

  private replaying = false

  /**
   * The offset before the first message it lacks among `acked`, or the last it has.
   * Messages kept in no history (`unrecorded`) are no gap a replay could fill: passed over.
   */
  resumeOffset(acked: Iterable<number>, unrecorded: ReadonlySet<number> = new Set()): number {
    const sorted = [...acked].sort((a, b) => a - b)
    let last = -1
    for (const seq of sorted) {
      const offset = this.offsets.get(seq)
      if (offset !== undefined) last = offset
      else if (!this.seen.has(seq) && !unrecorded.has(seq)) break
    }
    return last
  }

  /** Joins again with `since` (leaving first when `rejoin` and still a member): the replay fills its gap. */
  async recover(acked: Iterable<number>, leaveFirst: boolean, unrecorded: ReadonlySet<number> = new Set()): Promise<void> {
    const since = this.resumeOffset(acked, unrecorded)
    // Right after a fault the state may be slow to answer (each call is bounded by cluster.state_timeout_ms, 5 s): wait past that.
    if (leaveFirst) await this.client.request('leave_room', { room_id: this.room }, undefined, RECOVER_WAIT_MS)
    this.replaying = true
    try {
      const joined = await this.client.request('join_room', since >= 0 ? { room_id: this.room, since } : { room_id: this.room }, `recover-${Date.now()}-${Math.random()}`, RECOVER_WAIT_MS)
      if (joined.message_type !== 'room_joined') throw new Error(`rejoin failed: ${JSON.stringify(joined)}`)
      this.recovered = joined.data.recovered ?? null
    } finally {
      this.replaying = false
    }
  }

  /** Acked messages it never saw, live or replayed. */
  missing(acked: Iterable<number>): number[] {
    return [...acked].filter((seq) => !this.seen.has(seq))
  }

  /** Acked messages it did not see live. */
  missedLive(acked: Iterable<number>): number[] {
    return [...acked].filter((seq) => !this.live.has(seq))
  }

  /**
   * Messages whose offset is not above the offset of the message sent before them (of
   * those with an offset). One sender's frames run in order, so each takes its offset
   * after the previous one did: offsets must rise with the sequence number, across any fault.
   */
  offsetsNotRising(): number {
    const bySeq = [...this.offsets].sort(([a], [b]) => a - b)
    let count = 0
    for (let i = 1; i < bySeq.length; i++) if (bySeq[i]![1] <= bySeq[i - 1]![1]) count++
    return count
  }

  /** Messages delivered live more than once. */
  duplicates(): number[] {
    return [...this.live].filter(([, n]) => n > 1).map(([seq]) => seq)
  }
}

/** A sender of numbered room messages, each a request; remembers which were acked and which failed. */
export class Sender {
  readonly acked = new Set<number>()
  readonly failed = new Set<number>()
  /** The error codes of the failed ones: code → count. */
  readonly errorCodes: Record<string, number> = {}
  /** performance.now() when each seq was sent. */
  readonly sentAt = new Map<number, number>()
  private seq = 0
  private timer: NodeJS.Timeout | null = null

  constructor(
    public client: TestClient,
    readonly room: string,
  ) {
    this.listen(client)
  }

  listen(client: TestClient): void {
    this.client = client
    client.socket.on('message', (raw: Buffer) => {
      const f = JSON.parse(raw.toString())
      if (typeof f.request_id !== 'string' || !f.request_id.startsWith('m-')) return
      const seq = Number(f.request_id.slice(2))
      if (f.message_type === 'ack') this.acked.add(seq)
      else {
        this.failed.add(seq)
        const code = `${f.data?.code}`
        this.errorCodes[code] = (this.errorCodes[code] ?? 0) + 1
      }
    })
  }

  get sent(): number {
    return this.seq
  }

  start(periodMs = 20): void {
    this.timer = setInterval(() => {
      if (this.client.socket.readyState !== 1) return
      const seq = this.seq++
      this.sentAt.set(seq, performance.now())
      this.client.send({ message_type: 'room_message', data: { room_id: this.room, content: { seq } }, message_id: `m-${seq}` })
    }, periodMs)
    // A run that fails before stop() must not keep its test process alive forever.
    this.timer.unref()
  }

  /** Stops and waits up to `graceMs` for the answers of what is in flight. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    const until = Date.now() + graceMs
    while (this.acked.size + this.failed.size < this.seq && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
  }

  /** The first seq sent at or after `t` (performance.now()). */
  firstSentAfter(t: number): number | null {
    for (const [seq, at] of this.sentAt) if (at >= t) return seq
    return null
  }
}

/**
 * How long after `t` cross-node delivery resumed at a receiver: the arrival of the
 * first message sent at or after `t`, minus `t` (ms); null when none arrived.
 */
export function resumedAfter(sender: Sender, receiver: Receiver, t: number): number | null {
  let first: number | null = null
  for (const [seq, at] of receiver.arrivedAt) {
    const sentAt = sender.sentAt.get(seq)
    if (sentAt === undefined || sentAt < t) continue
    if (first === null || at < first) first = at
  }
  return first === null ? null : Math.round(first - t)
}
