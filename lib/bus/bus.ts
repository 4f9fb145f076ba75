/**
 * The cluster bus: how nodes hand each other deliveries. A transport (memory, redis,
 * nats) only moves bytes between subjects; what the bytes mean is written once here, as
 * a discriminated union of message kinds, each carried as a small JSON header line
 * followed by the client-facing frame, untouched. The frame is encoded once by the
 * publishing node and sent as the same bytes to every local recipient on each receiving
 * node.
 */
import { randomBytes } from 'node:crypto'
import type { EventEmitter } from 'node:events'

/** Up while the transport is connected and subscribed; down during an outage. */
export type BusStatus = 'up' | 'down'

/** A transport between nodes. Every implementation passes test/unit/bus-contract. */
export interface Bus extends Pick<EventEmitter, 'on' | 'off' | 'once'> {
  readonly status: BusStatus
  /** Connects; resolves once publishing and subscribing work. */
  connect(): Promise<void>
  /** Publishes bytes to a subject; a bus delivers them to its own subscription too. Rejects while the bus is down. */
  publish(subject: string, payload: Buffer): Promise<void>
  /**
   * Subscribes a handler to a subject (one handler per subject per node; a second call
   * replaces the first). Resolves once publishes from other nodes reach it; while the
   * bus is down the subscription is kept and made when the bus is back.
   */
  subscribe(subject: string, handler: (payload: Buffer) => void): Promise<void>
  unsubscribe(subject: string): Promise<void>
  close(): Promise<void>
  // Events: 'status' (BusStatus) when it changes; 'error' never: failures are statuses.
  // An implementation reconnects by itself, forever, and subscribes again on reconnect.
}

/** What crosses the bus, by kind. `frame` is the exact text to send to clients. */
export type BusMessage =
  | { kind: 'room'; rooms: string[]; except: string[]; frame: string }
  | { kind: 'direct'; to: string; frame: string }
  | { kind: 'clients'; to: string[]; frame: string }
  | { kind: 'kick'; to: string; code: number; reason: string }
  | { kind: 'broadcast'; except: string[]; frame: string }
  | { kind: 'room_deleted'; room: string; frame: string }

/**
 * A message with its envelope: unique id, origin node, W3C traceparent, and when the
 * origin published it (ms since the epoch, by its clock: `wshub_bus_lag_seconds`; absent
 * from nodes older than the field).
 */
export type BusEnvelope = BusMessage & { id: string; origin: string; traceparent: string | null; sent_at?: number }

const NEWLINE = 0x0a
let counter = 0
const idPrefix = randomBytes(6).toString('base64url')

/** A unique envelope id: a random per-process prefix and a counter. */
export function newEnvelopeId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER
  return idPrefix + counter.toString(36)
}

/** Encodes an envelope as `header JSON \n frame`. */
export function encodeEnvelope(envelope: BusEnvelope): Buffer {
  const { frame, ...header } = envelope as BusEnvelope & { frame?: string }
  return Buffer.from(frame === undefined ? JSON.stringify(header) : `${JSON.stringify(header)}\n${frame}`)
}

/** Decodes what {@link encodeEnvelope} made; throws on anything else. */
export function decodeEnvelope(payload: Buffer): BusEnvelope {
  const cut = payload.indexOf(NEWLINE)
  const header = JSON.parse(payload.toString('utf8', 0, cut === -1 ? payload.length : cut)) as BusEnvelope
  if (typeof header !== 'object' || header === null || typeof header.id !== 'string' || typeof header.kind !== 'string') {
    throw new Error('bus envelope without id or kind')
  }
  if (cut !== -1) (header as { frame: string }).frame = payload.toString('utf8', cut + 1)
  return header
}

// A room id may hold dots (`a.b`, even `..`), which NATS reads as token separators:
// such ids travel as `=` + base64url, a form no plain room id can take.
const PLAIN_TOKEN = /^[A-Za-z0-9_:-]+$/

/** A room id as one subject token, the same on every bus. */
export function roomToken(room: string): string {
  return PLAIN_TOKEN.test(room) ? room : `=${Buffer.from(room).toString('base64url')}`
}

/** Subject names, all under the cluster prefix. */
export function subjects(prefix: string) {
  return {
    room: (room: string) => `${prefix}.room.${roomToken(room)}`,
    node: (nodeId: string) => `${prefix}.node.${nodeId}`,
    broadcast: `${prefix}.broadcast`,
  }
}

/**
 * Remembers envelope ids for at-most-once delivery whatever the bus redelivers: two
 * generations of ids, rotated when the current one is `maxAgeMs` old or holds `capacity`
 * ids, so an id is remembered for at least `maxAgeMs` (a redelivery comes within seconds)
 * unless the traffic fills a generation first, and memory stays bounded by `2 × capacity`
 * ids (about 11 MB) at the most, and by two minutes of traffic below that rate.
 */
export class SeenIds {
  private current = new Set<string>()
  private previous = new Set<string>()
  private currentSince: number

  constructor(
    private readonly capacity = 50_000,
    private readonly maxAgeMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {
    this.currentSince = now()
  }

  /** True the first time an id is offered, false for every repeat. */
  firstTime(id: string): boolean {
    if (this.current.has(id) || this.previous.has(id)) return false
    if (this.current.size >= this.capacity || this.now() - this.currentSince >= this.maxAgeMs) {
      this.previous = this.current
      this.current = new Set()
      this.currentSince = this.now()
    }
    this.current.add(id)
    return true
  }
}
