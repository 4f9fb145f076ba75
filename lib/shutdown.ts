/**
 * The drain of a node's connections (`app.close()`, SIGINT/SIGTERM): frames go on being
 * served, and each connection gets its 1001 as soon as the frames it sent so far are
 * answered, so every request that reached the node before its close gets its terminal
 * reply. Whatever still runs after 10 s is closed anyway; a peer that does not answer the
 * close handshake within 3 s is dropped.
 */
import { CloseCode, type Connection } from './connection.js'

const SHUTTING_DOWN = 'server shutting down'

/**
 * Closes every connection `connections()` yields, each once its chain is idle; resolves
 * when they are all gone (or the time limits passed).
 *
 * @example
 * ```ts
 * await drainConnections(() => server.everyConnection(), () => app.inFlight)
 * ```
 */
export async function drainConnections(connections: () => Iterable<Connection>, inFlight: () => number): Promise<void> {
  await waitUntil(() => closeIdle(connections()) && inFlight() === 0, 10_000)
  const gone = () => isEmpty(connections())
  for (const conn of [...connections()]) conn.close(CloseCode.GoingAway, SHUTTING_DOWN)
  await waitUntil(gone, 3_000)
  for (const conn of [...connections()]) conn.close(CloseCode.GoingAway, SHUTTING_DOWN, true)
  await waitUntil(gone, 1_000)
}

/** Closes (1001) every connection whose chain is idle; true when none is left running a frame. */
function closeIdle(connections: Iterable<Connection>): boolean {
  let running = false
  for (const conn of connections) {
    if (conn.closeInfo !== null) continue
    if (conn.busy) running = true
    else conn.close(CloseCode.GoingAway, SHUTTING_DOWN)
  }
  return !running
}

function isEmpty(items: Iterable<unknown>): boolean {
  for (const _ of items) return false
  return true
}

function waitUntil(done: () => boolean, maxMs: number): Promise<void> {
  if (done()) return Promise.resolve()
  const until = Date.now() + maxMs
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (done() || Date.now() >= until) {
        clearInterval(timer)
        resolve()
      }
    }, 10)
  })
}
