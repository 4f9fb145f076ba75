/**
 * What the NATS cluster state needs from JetStream KV beyond get/put: key tokens for
 * arbitrary ids, and a compare-and-set loop on one key (the KV revision check), which is
 * how every read-modify-write of the state stays atomic across nodes.
 */
import type { JetStreamManager } from '@nats-io/jetstream'
import type { KV, KvEntry } from '@nats-io/kv'
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

/** Every key under a filter. */
export async function listKeys(kv: KV, filter: string): Promise<string[]> {
  const keys: string[] = []
  for await (const key of await kv.keys(filter)) keys.push(key)
  return keys
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

/**
 * Reads a key, lets `change` decide, and writes only if nobody wrote in between (the
 * KV revision check); on a conflict it reads again and retries, with a little jitter so
 * racing nodes spread out. `change` must be pure: it may run more than once.
 */
export async function compareAndSet<T, R>(kv: KV, key: string, change: (current: T | null) => Change<T, R>): Promise<R> {
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
      if (attempt >= 200) throw new Error(`too much contention on ${key}; try again`)
      await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, 2 + attempt * 2)))
    }
  }
}
