/**
 * A chat with rooms: the wshub node serves the page, the client SDK and the WebSocket
 * on one port. Presence events and history are on, so a page sees who is in its room
 * and the last messages when it joins.
 *
 * Run: `npm run build && node dist/examples/chat/server.js`, then open
 * http://localhost:8080/?room=lobby&name=alice (port: WSHUB_HTTP_PORT).
 * Two nodes behind one page: see README.md.
 */
import { createApp, type AppOptions, type Application, type ConfigInput } from '../../lib/index.js'
import { serveStatic } from './static.js'

/** The chat node: a wshub app with presence and history on, serving the page and the client. */
export function createChatApp(config: ConfigInput = {}, options: AppOptions = {}): Application {
  const app = createApp({ ...config, rooms: { presence_events: true, history_size: 100, ...config.rooms } }, options)
  app.onHttp(serveStatic)
  return app
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const app = createChatApp()
  await app.listen()
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void app.close())
}
