/**
 * The one place that imports the NATS transport: connections for the NATS bus and state,
 * reconnecting by themselves, forever, and noticing a silent server within about 3 s.
 */
import { connect, errors, type NatsConnection, type Subscription } from '@nats-io/transport-node'

export type { NatsConnection, Subscription }

/**
 * Connects to NATS as `name`, or throws an error that names the config key to check.
 *
 * @example
 * ```ts
 * const nc = await openNats(['nats://127.0.0.1:4222'], 'wshub-bus', 'cluster bus')
 * ```
 */
export async function openNats(servers: string[], name: string, what: string): Promise<NatsConnection> {
  try {
    return await connect({
      servers,
      name,
      reconnect: true,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      pingInterval: 1000,
      maxPingOut: 2,
      timeout: 2000,
    })
  } catch (err) {
    throw new Error(`could not reach NATS for the ${what} (cluster.nats.servers): ${(err as Error).message}`)
  }
}

/** Follows a connection's status until it closes: `onChange(true)` when connected again, `(false)` when cut off. */
export async function watchConnection(nc: NatsConnection, onChange: (connected: boolean) => void, onError?: (err: unknown) => void): Promise<void> {
  for await (const s of nc.status()) {
    if (s.type === 'disconnect' || s.type === 'staleConnection') onChange(false)
    else if (s.type === 'reconnect') onChange(true)
    else if (s.type === 'error') onError?.(s.error)
    else if (s.type === 'close') break
  }
  onChange(false)
}

const UNREACHABLE = [errors.TimeoutError, errors.NoRespondersError, errors.ConnectionError, errors.ClosedConnectionError, errors.DrainingConnectionError]

/**
 * Whether a NATS call failed because the server is out of reach: no answer in time, no
 * responder (JetStream not there, or not yet after a restart), a connection lost or
 * closed. The client wraps these (JetStream's "not enabled" carries a no-responders
 * cause), so the causes are looked through too. A JetStream API error is an answer.
 */
export function isNatsUnreachable(err: unknown): boolean {
  for (let e = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (UNREACHABLE.some((kind) => e instanceof kind)) return true
  }
  return false
}
