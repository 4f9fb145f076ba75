/**
 * wshub on an Express server: `/hello` is Express's, `/ws`, `/health` and `/api/*` are
 * wshub's, all on one port. Run: `npm run build && node dist/examples/express/server.js`
 * (PORT, default 3000), then `GET /hello` and a WebSocket on `ws://127.0.0.1:3000/ws`.
 */
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import express from 'express'
import { createApp, type ConfigInput } from '../../lib/index.js'

/** Starts Express on `port` with wshub attached; `hub.close()` drains wshub's clients and leaves Express serving. */
export async function startExpress(port = 3000, config: ConfigInput = {}) {
  const web = express()
  web.get('/hello', (_req, res) => {
    res.json({ hello: 'from express' })
  })

  const hub = createApp(config)
  hub.route('echo', (ctx) => ctx.reply('echo_reply', ctx.data))

  const server = web.listen(port, '127.0.0.1')
  await once(server, 'listening')
  await hub.attach(server)
  return { server, hub, port: (server.address() as AddressInfo).port }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { server, hub, port } = await startExpress(Number(process.env.PORT ?? 3000))
  hub.log.info({ port }, 'example: express with wshub on one port')
  const stop = () => void hub.close().then(() => server.close(() => process.exit(0)))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
