/**
 * Room history on NATS, in one of two places (`cluster.nats.jetstream`):
 *
 * - `StreamHistory` (on): a JetStream stream `<p>_history` with one subject per room and
 *   `max_msgs_per_subject` = `rooms.history_size`, so the server trims each room to its
 *   last N. The room-wide offset comes from a counter key `o.<room>` in the state bucket
 *   (a revision-checked increment); each message is `<offset>\n<frame>`.
 * - `KvHistory` (off): one KV document per room in the bucket `<p>_history`,
 *   `{last, entries: [[offset, frame], ...]}`, capped at N and rewritten by a
 *   revision-checked update on every message. Correct and simple, but each message
 *   rewrites the room's whole history: fine for small `history_size`, costly for large.
 *
 * Either way the state bucket (JetStream KV) is what makes offsets atomic. A room's
 * first offset is one above the offset epoch's base (lib/cluster/nats-offset-epoch.ts):
 * 1 on a fresh cluster, above every earlier offset after the server lost its data.
 */
import { randomUUID } from 'node:crypto'
import { DiscardPolicy, RetentionPolicy, StorageType, type JetStreamClient } from '@nats-io/jetstream'
import type { KV, Kvm } from '@nats-io/kv'
import { bucketOptions, compareAndSet, token, valueOf, type Change } from './nats-kv.js'
import { MissingRoomError, type HistoryEntry, type HistoryReplay } from './state.js'

export interface History {
  append(roomId: string, size: number, makeFrame: (offset: number) => string): Promise<HistoryEntry>
  read(roomId: string, since: number): Promise<HistoryReplay>
  drop(roomId: string): Promise<void>
  /** Forgets what it made, so it is made again on next use (after a server came back without its data). */
  reset(): void
}

/** The answer to a read, from the last offset written and what is kept (PROTOCOL.md section 3). */
function replay(last: number, kept: HistoryEntry[], since: number): HistoryReplay {
  const first = kept[0]
  // A `since` past the last offset written was seen before the history was lost (a server that came back empty).
  if (since > last) return { recovered: false, entries: [] }
  if (since < last && (first === undefined || first.offset > since + 1)) return { recovered: false, entries: [] }
  return { recovered: true, entries: kept.filter((e) => e.offset > since) }
}

async function requireRoom(state: KV, roomId: string): Promise<void> {
  if (valueOf(await state.get(`r.${token(roomId)}`)) === null) throw new MissingRoomError(roomId)
}

/**
 * A compare-and-set on a room's offset counter (or history document) where a missing one
 * starts at the offset epoch's base, asked for afresh (`base`) before it is made: the
 * server may have lost its data since this node last looked, and another node set a new
 * epoch. `onNew` runs first, when the counter is missing. `change` gets the base only
 * for a missing counter.
 */
async function takeOffset<T, R>(kv: KV, key: string, base: () => Promise<number>, change: (current: T | null, base: number) => Change<T, R>, onNew?: () => Promise<void>): Promise<R> {
  let learned: number | null = null
  for (;;) {
    const taken = await compareAndSet<T, { result: R } | null>(kv, key, (current) => {
      if (current === null && learned === null) return { result: null }
      const { next, result } = change(current, learned ?? 0)
      return { next, result: { result } }
    })
    if (taken !== null) return taken.result
    await onNew?.()
    learned = await base()
  }
}

export class KvHistory implements History {
  private bucket: Promise<KV> | null = null

  /** @param base resolves to the offset epoch's base: where a room's counter starts */
  constructor(private readonly kvm: Kvm, private readonly state: KV, private readonly name: string, private readonly base: () => Promise<number>) {}

  private kv(): Promise<KV> {
    this.bucket ??= this.kvm.create(`${this.name}_history`, bucketOptions).catch((err) => {
      this.bucket = null
      throw err
    })
    return this.bucket
  }

  async append(roomId: string, size: number, makeFrame: (offset: number) => string): Promise<HistoryEntry> {
    const kv = await this.kv()
    type Doc = { last: number; entries: Array<[number, string]> }
    const take = (doc: Doc | null, base: number) => {
      const offset = (doc?.last ?? base) + 1
      const frame = makeFrame(offset)
      const entries = [...(doc?.entries ?? []), [offset, frame] as [number, string]]
      return { next: { last: offset, entries: entries.slice(-size) }, result: { offset, frame } }
    }
    return takeOffset<Doc, HistoryEntry>(kv, `h.${token(roomId)}`, this.base, take, () => requireRoom(this.state, roomId))
  }

  async read(roomId: string, since: number): Promise<HistoryReplay> {
    const doc = valueOf<{ last: number; entries: Array<[number, string]> }>(await (await this.kv()).get(`h.${token(roomId)}`))
    if (doc === null) return replay(0, [], since)
    return replay(doc.last, doc.entries.map(([offset, frame]) => ({ offset, frame })), since)
  }

  async drop(roomId: string): Promise<void> {
    await (await this.kv()).purge(`h.${token(roomId)}`)
  }

  reset(): void {
    this.bucket = null
  }
}

export class StreamHistory implements History {
  private readonly stream: string
  private ready: Promise<void> | null = null

  /**
   * @param base resolves to the offset epoch's base: where a room's counter starts
   * @param replicas copies of the stream in a NATS cluster (`cluster.nats.replicas`)
   */
  constructor(private readonly js: JetStreamClient, private readonly state: KV, name: string, private readonly base: () => Promise<number>, private readonly replicas = 1) {
    this.stream = `${name}_history`
  }

  private subject(roomId: string): string {
    return `${this.stream}.${token(roomId)}`
  }

  /** Makes the stream on first use, with the history size the cluster is configured for. */
  private ensure(size: number): Promise<void> {
    this.ready ??= (async () => {
      const jsm = await this.js.jetstreamManager()
      const config = {
        name: this.stream,
        subjects: [`${this.stream}.>`],
        retention: RetentionPolicy.Limits,
        storage: StorageType.File,
        discard: DiscardPolicy.Old,
        max_msgs_per_subject: size,
        num_replicas: this.replicas,
      }
      try {
        await jsm.streams.add(config)
      } catch {
        await jsm.streams.update(this.stream, config)
      }
    })().catch((err) => {
      this.ready = null
      throw err
    })
    return this.ready
  }

  async append(roomId: string, size: number, makeFrame: (offset: number) => string): Promise<HistoryEntry> {
    await this.ensure(size)
    const { offset, first } = await takeOffset<number, { offset: number; first: boolean }>(this.state, `o.${token(roomId)}`, this.base, (last, base) => {
      const offset = (last ?? base) + 1
      return { next: offset, result: { offset, first: last === null } }
    })
    if (first) await requireRoom(this.state, roomId).catch(async (err) => {
      await this.state.purge(`o.${token(roomId)}`)
      throw err
    })
    const frame = makeFrame(offset)
    await this.publish(roomId, size, `${offset}\n${frame}`)
    return { offset, frame }
  }

  /**
   * A stream made a moment ago (by this node or another) may not take messages yet, and
   * one a server lost takes none: make sure of it and try again, a few times.
   */
  private async publish(roomId: string, size: number, payload: string): Promise<void> {
    const subject = this.subject(roomId)
    // One id for every try of this append: JetStream drops a retry of a publish that was stored after all.
    const msgID = randomUUID()
    for (let attempt = 1; ; attempt++) {
      try {
        await this.js.publish(subject, payload, { msgID })
        return
      } catch (err) {
        if (attempt === 4) throw err
        await new Promise((resolve) => setTimeout(resolve, 50 * attempt))
        this.ready = null
        await this.ensure(size)
      }
    }
  }

  async read(roomId: string, since: number): Promise<HistoryReplay> {
    const last = valueOf<number>(await this.state.get(`o.${token(roomId)}`)) ?? 0
    if (last < since) return { recovered: false, entries: [] }
    if (last === since) return { recovered: true, entries: [] }
    const jsm = await this.js.jetstreamManager()
    const subject = this.subject(roomId)
    let count = 0
    try {
      const info = await jsm.streams.info(this.stream, { subjects_filter: subject })
      count = info.state.subjects?.[subject] ?? 0
    } catch {
      count = 0
    }
    const kept: HistoryEntry[] = []
    if (count > 0) {
      const consumer = await this.js.consumers.get(this.stream, { filter_subjects: subject })
      const messages = await consumer.fetch({ max_messages: count, expires: 2000 })
      for await (const m of messages) {
        const text = m.string()
        const cut = text.indexOf('\n')
        kept.push({ offset: Number(text.slice(0, cut)), frame: text.slice(cut + 1) })
        if (m.info.pending === 0) break
      }
      await consumer.delete().catch(() => {})
      kept.sort((a, b) => a.offset - b.offset)
    }
    return replay(last, kept, since)
  }

  async drop(roomId: string): Promise<void> {
    await this.state.purge(`o.${token(roomId)}`)
    const jsm = await this.js.jetstreamManager()
    await jsm.streams.purge(this.stream, { filter: this.subject(roomId) }).catch(() => {})
  }

  reset(): void {
    this.ready = null
  }
}
