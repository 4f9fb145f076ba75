/**
 * A backend's own HTTP API that publishes to WebSocket clients through the wshub server
 * SDK. Every call is cluster-wide: with `cluster.bus: redis` or `nats` it reaches the
 * clients of every node, not only of the node this backend runs in.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { AppError, ErrorCode, type Application } from '../../lib/index.js'

async function json(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = ''
  for await (const chunk of req) text += chunk
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>)
}

function answer(res: ServerResponse, status: number, body?: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(body === undefined ? undefined : JSON.stringify(body))
}

/**
 * The backend's routes:
 * - `POST /orders/:id/status {"status"}`: tells everyone watching room `order:<id>`
 * - `POST /users/:clientId/notify {"text"}`: one client, on whatever node it is
 * - `POST /announce {"text"}`: every client of the cluster
 * - `GET /online`: how many clients the cluster holds
 * - `POST /users/:clientId/ban`: closes the client (4000) wherever it is
 */
export function createBackend(app: Application): Server {
  return createServer(async (req, res) => {
    const parts = (req.url ?? '/').split('?')[0]!.split('/').filter(Boolean).map(decodeURIComponent)
    try {
      if (req.method === 'POST' && parts[0] === 'orders' && parts[2] === 'status' && parts.length === 3) {
        const { status } = await json(req)
        await app.to(`order:${parts[1]}`).send('order_status', { order_id: parts[1], status })
        return answer(res, 202, { sent: true })
      }
      if (req.method === 'POST' && parts[0] === 'users' && parts[2] === 'notify' && parts.length === 3) {
        const { text } = await json(req)
        await app.sendTo(parts[1]!, 'notification', { text })
        return answer(res, 202, { sent: true })
      }
      if (req.method === 'POST' && parts[0] === 'announce' && parts.length === 1) {
        const { text } = await json(req)
        await app.broadcast('announcement', { text })
        return answer(res, 202, { sent: true })
      }
      if (req.method === 'GET' && parts[0] === 'online' && parts.length === 1) {
        return answer(res, 200, { online: await app.clients.count() })
      }
      if (req.method === 'POST' && parts[0] === 'users' && parts[2] === 'ban' && parts.length === 3) {
        await app.clients.kick(parts[1]!, 'banned')
        return answer(res, 204)
      }
      answer(res, 404, { error: 'no such route' })
    } catch (err) {
      if (err instanceof AppError && err.code === ErrorCode.ClientNotFound) return answer(res, 404, { error: err.message })
      if (err instanceof SyntaxError) return answer(res, 400, { error: 'body must be JSON' })
      app.log.error({ err }, 'backend route failed')
      answer(res, 500, { error: 'server error' })
    }
  })
}
