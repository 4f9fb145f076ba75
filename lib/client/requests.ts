/**
 * Requests waiting for their reply, matched by `message_id` = `request_id`. Ids are
 * random strings: the server scopes a string id to the user, so a request retried after
 * a reconnect, even on another node, is recognised as a repeat (PROTOCOL.md section 5).
 */
import type { MessageId } from '../protocol.js'
import { ClientError, WshubError } from './errors.js'
import type { Frame } from './types.js'

/**
 * What a request does when its connection is lost before the reply: `same` sends it
 * again with the same `message_id` (dedup makes that safe), `fresh` sends it again with
 * a new one (for what belongs to one connection: joins, leaves, member lists), `drop`
 * fails it.
 */
export type RetryPolicy = 'same' | 'fresh' | 'drop'

/** A random `message_id`: 24 hex chars from the platform's CSPRNG (crypto.getRandomValues). */
export function randomId(): string {
  const bytes = new Uint8Array(12)
  globalThis.crypto.getRandomValues(bytes)
  let id = ''
  for (const byte of bytes) id += (byte < 16 ? '0' : '') + byte.toString(16)
  return id
}

export class PendingRequest {
  id: MessageId
  /** queued: waits in the outbox; sent: on the wire; lost: its connection ended before the reply. */
  status: 'queued' | 'sent' | 'lost' = 'queued'
  timer: ReturnType<typeof setTimeout> | null = null

  constructor(
    readonly type: string,
    private readonly data: unknown,
    readonly retry: RetryPolicy,
    readonly resolve: (frame: Frame) => void,
    readonly reject: (err: Error) => void,
  ) {
    this.id = randomId()
  }

  /** The frame to write now; `data` given as a function is read at every send. */
  encode(): string {
    const data = typeof this.data === 'function' ? (this.data as () => unknown)() : this.data
    return JSON.stringify({ message_type: this.type, data, message_id: this.id })
  }
}

export class Requests {
  private readonly pending = new Map<MessageId, PendingRequest>()

  /** @param onTimeout called when a request timed out, so the client can take it out of its queue */
  constructor(private readonly onTimeout: (request: PendingRequest) => void) {}

  get size(): number {
    return this.pending.size
  }

  /** A new request, registered until its reply, its timeout or the client's close. */
  create(type: string, data: unknown, timeoutMs: number, retry: RetryPolicy): { request: PendingRequest; reply: Promise<Frame> } {
    let request!: PendingRequest
    const reply = new Promise<Frame>((resolve, reject) => {
      request = new PendingRequest(type, data, retry, resolve, reject)
    })
    this.pending.set(request.id, request)
    if (Number.isFinite(timeoutMs)) {
      request.timer = setTimeout(() => {
        if (this.pending.get(request.id) !== request) return
        this.pending.delete(request.id)
        this.onTimeout(request)
        request.reject(new WshubError(1004, `no reply to ${type} within ${timeoutMs} ms`, undefined, request.id))
      }, timeoutMs)
    }
    return { request, reply }
  }

  /** Settles the request a reply answers; false when none waits for it (late, or not ours). */
  settle(frame: Frame): boolean {
    const request = this.pending.get(frame.request_id!)
    if (request === undefined) return false
    this.finish(request)
    if (frame.message_type === 'error') {
      const error = (frame.data ?? {}) as { code?: unknown; message?: unknown; details?: unknown }
      const code = typeof error.code === 'number' ? error.code : 1000
      const message = typeof error.message === 'string' ? error.message : 'error'
      request.reject(new WshubError(code, message, error.details, request.id))
    } else request.resolve(frame)
    return true
  }

  /** Takes a request out without settling it (it could not be queued). */
  forget(request: PendingRequest): void {
    this.finish(request)
  }

  /** The connection ended: requests on the wire are lost (or fail, for `drop`). */
  connectionLost(): void {
    for (const request of this.pending.values()) {
      if (request.status !== 'sent') continue
      if (request.retry === 'drop') {
        this.finish(request)
        request.reject(new ClientError('closed', `the connection closed before the reply to ${request.type}`))
      } else request.status = 'lost'
    }
  }

  /** Lost requests to send again on a new connection, oldest first; `fresh` ones get a new id. */
  takeLost(): PendingRequest[] {
    const lost: PendingRequest[] = []
    for (const request of this.pending.values()) if (request.status === 'lost') lost.push(request)
    for (const request of lost) {
      if (request.retry !== 'fresh') continue
      this.pending.delete(request.id)
      request.id = randomId()
      this.pending.set(request.id, request)
    }
    return lost
  }

  /** Fails every request (the client closed for good). */
  rejectAll(err: Error): void {
    for (const request of [...this.pending.values()]) {
      this.finish(request)
      request.reject(err)
    }
  }

  private finish(request: PendingRequest): void {
    this.pending.delete(request.id)
    if (request.timer !== null) clearTimeout(request.timer)
    request.timer = null
  }
}
