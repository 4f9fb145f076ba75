/**
 * What the NATS cluster state needs from JetStream KV beyond get/put: key tokens for
 * arbitrary ids, and a compare-and-set loop on one key (the KV revision check), which is
 * how every read-modify-write of the state stays atomic across nodes.
 */
import type { JetStreamManager } from '@nats-io/jetstream'
import type { Bucket, KV, KvEntry } from '@nats-io/kv'
import type { MemberRecord, RoomRecord } from './state.js'

/** A room in the state bucket: its record and members in one document, so one revision check covers both. */
export interface RoomDoc {
  record: RoomRecord
  members: Record<string, MemberRecord>
}

const SAFE = /^[A-Za-z0-9_-]+$/

/**
 * One KV key token for any id: ids of `[A-Za-z0-9_-]` stay as they are (most do); the
 * rest become `=` + base64url (`=` never occurs in a plain token, so both stay distinct).
 */
export function token(id: string): string {
  return SAFE.test(id) ? id : `=${Buffer.from(id).toString('base64url')}`
}

export function untoken(tok: string): string {
  return tok.startsWith('=') ? Buffer.from(tok.slice(1), 'base64url').toString() : tok
}

/** `<kind>.<node>.<suffix>` for a client id `<node>.<suffix>`, so one node's clients list by `<kind>.<node>.>`. */
export function clientKey(kind: string, clientId: string): string {
  const dot = clientId.indexOf('.')
  const node = dot > 0 ? clientId.slice(0, dot) : ''
  const rest = clientId.slice(dot + 1)
  if (dot > 0 && SAFE.test(node) && SAFE.test(rest)) return `${kind}.${node}.${rest}`
  return `${kind}.=.${Buffer.from(clientId).toString('base64url')}`
}

/** The client id of a key {@link clientKey} made. */
export function clientOfKey(key: string): string {
  const [, node, rest] = key.split('.') as [string, string, string]
  return node === '=' ? Buffer.from(rest, 'base64url').toString() : `${node}.${rest}`
}

/** The decoded JSON of a live entry, or null for none or a delete marker. */
export function valueOf<T>(entry: KvEntry | null): T | null {
  return entry !== null && entry.operation === 'PUT' ? entry.json<T>() : null
}

/**
 * The options of every wshub bucket: one value per key, and reads through the stream
 * leader rather than direct gets, which can miss a just-made bucket and may read stale
 * values, where compare-and-set wants the latest.
 */
export const bucketOptions = { history: 1, allow_direct: false } as const

/**
 * Removes keys with no trace. A KV delete leaves a marker per key forever, which one
 * per connection ever made would pile up; purging the key's subject in the bucket's
 * stream leaves nothing. Not revision-checked: only for keys nobody else writes.
 */
export async function forget(jsm: JetStreamManager, bucket: string, keys: string[]): Promise<void> {
  await Promise.all(keys.map((key) => jsm.streams.purge(`KV_${bucket}`, { filter: `$KV.${bucket}.${key}` })))
}

/**
 * Every key under a filter, with delete markers (a key whose last write was a delete is
 * listed; its value reads as null), from one request: the subjects the bucket's stream
 * holds. Not `kv.keys()`, whose consumer ends on a message with nothing pending after it
 * or else on an idle heartbeat: a key purged between its count and its delivery (a client
 * leaving) left it waiting for the heartbeat, 5 s, and 30 s once a freeze of the server
 * had made it start over; and it could answer without keys that were there.
 */
export async function listKeys(kv: KV, filter: string): Promise<string[]> {
  const bucket = kv as Bucket
  const prefix = bucket.fullKeyName('')
  const info = await bucket.jsm.streams.info(bucket.stream, { subjects_filter: bucket.fullKeyName(filter) })
  return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(prefix.length))
}

function isConflict(err: unknown): boolean {
  const code = (err as { code?: unknown }).code
  return code === 10071 || code === 10164 || /wrong last sequence/i.test((err as Error).message ?? '')
}

/** A change of one document: the new value (null deletes, undefined writes nothing) and what to answer. */
export interface Change<T, R> {
  next?: T | null
  result: R
}

/** How long a compare-and-set keeps retrying on conflicts before it gives up. */
const CONTENTION_DEADLINE_MS = 30_000
/** The longest wait between two attempts (the backoff doubles up to it). */
const MAX_BACKOFF_MS = 250

/** Per bucket, the compare-and-sets of this process waiting for each key. */
const queues = new WeakMap<KV, Map<string, Promise<unknown>>>()

/**
 * Reads a key, lets `change` decide, and writes only if nobody wrote in between (the
 * KV revision check); on a conflict it reads again and retries. `change` must be pure:
 * it may run more than once.
 *
 * A popular room filling up (a thousand clients joining at once, from every node) is a
 * thundering herd on one key: every writer but one loses each round. So the changes of
 * one process to one key run one after another (they would only beat each other), which
 * leaves the nodes as the only contenders, and those back off exponentially with full
 * jitter (up to 250 ms), for up to 30 s before giving up.
 */
export function compareAndSet<T, R>(kv: KV, key: string, change: (current: T | null) => Change<T, R>): Promise<R> {
  let waiting = queues.get(kv)
  if (waiting === undefined) queues.set(kv, (waiting = new Map()))
  const before = waiting.get(key)
  const run = before === undefined ? casLoop(kv, key, change) : before.then(() => casLoop(kv, key, change), () => casLoop(kv, key, change))
  const queued = run.catch(() => {})
  waiting.set(key, queued)
  void queued.then(() => {
    if (waiting!.get(key) === queued) waiting!.delete(key)
  })
  return run
}

async function casLoop<T, R>(kv: KV, key: string, change: (current: T | null) => Change<T, R>): Promise<R> {
  const deadline = Date.now() + CONTENTION_DEADLINE_MS
  for (let attempt = 0; ; attempt++) {
    const entry = await kv.get(key)
    const current = valueOf<T>(entry)
    const { next, result } = change(current)
    if (next === undefined) return result
    try {
      if (next === null) {
        if (current !== null) await kv.delete(key, { previousSeq: entry!.revision })
      } else if (current === null) await kv.create(key, JSON.stringify(next))
      else await kv.update(key, JSON.stringify(next), entry!.revision)
      return result
    } catch (err) {
      if (!isConflict(err) && !/exists/i.test((err as Error).message ?? '')) throw err
      if (Date.now() >= deadline) throw new Error(`too much contention on ${key} for ${CONTENTION_DEADLINE_MS / 1000} s; try again`)
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** Math.min(attempt, 8))))
    }
  }
}
