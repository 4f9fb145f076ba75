/**
 * `GET /api/stats/stream`: the figures of `GET /api/stats` as Server-Sent Events, one
 * `stats` event every `interval_ms` (default 1000, 250..60000), for a dashboard or
 * `curl -N`. A read of the cluster state that fails sends an `unavailable` event and
 * the stream goes on. The credentials are checked again before each event: once they
 * no longer pass (a JWT expired, its key was rotated out), an `unauthorized` event ends
 * the stream. Browsers read it with `fetch` (an `EventSource` cannot send the
 * Authorization header, and the token must not travel in a URL).
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import { checkAdmin } from './admin-auth.js'
import { clusterStats, type StatsHost } from './cluster-stats.js'
import type { WshubConfig } from './config.js'
import { ErrorCode } from './errors.js'
import { HttpError } from './http-body.js'

const MIN_INTERVAL = 250
const MAX_INTERVAL = 60_000

/**
 * Streams the stats until the client goes away (or the node closes its connections).
 *
 * @example
 * ```ts
 * // curl -N -H 'authorization: Bearer change-me' localhost:8080/api/stats/stream?interval_ms=2000
 * ```
 */
export async function statsStream(app: StatsHost & { readonly log: Logger; readonly config: Pick<WshubConfig, 'http' | 'auth'> }, req: IncomingMessage, res: ServerResponse, _params: unknown, query: URLSearchParams): Promise<void> {
  const raw = query.get('interval_ms')
  const interval = raw === null ? 1000 : /^\d{1,6}$/.test(raw) ? Number(raw) : NaN
  if (!(interval >= MIN_INTERVAL && interval <= MAX_INTERVAL)) {
    throw new HttpError(400, ErrorCode.InvalidFormat, `interval_ms must be an integer ${MIN_INTERVAL}..${MAX_INTERVAL}`)
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' })
  if (req.method === 'HEAD') {
    res.end()
    return
  }
  // Tells EventSource-style readers how soon to come back after a drop.
  res.write(`retry: ${Math.max(1000, interval)}\n\n`)
  let reading = false
  const send = async () => {
    // A state slower than the interval gets one read at a time, not a pile of them.
    if (reading || res.writableEnded) return
    reading = true
    try {
      // The request passed the check when the stream opened; a JWT may expire since.
      const verdict = await checkAdmin(req.headers.authorization, app.config)
      if (!verdict.ok) {
        if (!res.writableEnded) res.end(`event: unauthorized\ndata: ${JSON.stringify({ code: verdict.code, message: verdict.message })}\n\n`)
        clearInterval(timer)
        return
      }
      const stats = await clusterStats(app)
      if (!res.writableEnded) res.write(`event: stats\ndata: ${JSON.stringify(stats)}\n\n`)
    } catch (err) {
      if (!res.writableEnded) res.write(`event: unavailable\ndata: ${JSON.stringify({ code: ErrorCode.ServerError, message: 'the cluster state did not answer' })}\n\n`)
      app.log.warn({ err: (err as Error).message }, 'stats stream: cluster state read failed')
    } finally {
      reading = false
    }
  }
  const timer = setInterval(() => void send(), interval)
  res.once('close', () => clearInterval(timer))
  await send()
}
