/**
 * Runs a wshub node (WebSocket clients on WSHUB_HTTP_PORT, default 8080) and, beside it
 * in the same process, the backend's own HTTP API (BACKEND_PORT, default 3000) that
 * publishes to those clients through the server SDK.
 */
import { createApp } from '../../lib/index.js'
import { createBackend } from './backend.js'

const app = createApp()

// Events carry the client id, user id, claims and time.
app.on('connection', (_client, info) => app.log.info({ client_id: info.clientId, user_id: info.userId }, 'example: client connected'))
app.on('room_joined', ({ room, clientId }) => app.log.info({ room, client_id: clientId }, 'example: client watches a room'))

await app.listen()
const backend = createBackend(app)
const port = Number(process.env.BACKEND_PORT ?? 3000)
backend.listen(port, '127.0.0.1', () => {
  const address = backend.address()
  app.log.info({ port: typeof address === 'object' && address !== null ? address.port : port }, 'example: backend listening')
})

const stop = () => {
  backend.close()
  void app.close().then(() => process.exit(0))
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
