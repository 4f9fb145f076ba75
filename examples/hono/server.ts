/**
 * wshub on Hono's Node server (@hono/node-server): `/hello` is Hono's, `/ws`, `/health`
 * and `/api/*` are wshub's, all on one port. Run: `npm run build && node
 * dist/examples/hono/server.js` (PORT, default 3000).
 */
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import { createApp, type ConfigInput } from '../../lib/index.js'

/** Starts Hono on `port` with wshub attached; `hub.close()` drains wshub's clients and leaves Hono serving. */
export async function startHono(port = 3000, config: ConfigInput = {}) {
  const web = new Hono()
  web.get('/hello', (c) => c.json({ hello: 'from hono' }))
  // serve() makes an http.Server unless told to use http2.
  const server = serve({ fetch: web.fetch, port, hostname: '127.0.0.1' }) as Server
  if (!server.listening) await once(server, 'listening')

  const hub = createApp(config)
  hub.route('echo', (ctx) => ctx.reply('echo_reply', ctx.data))
  await hub.attach(server)
  return { server, hub, port: (server.address() as AddressInfo).port }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { server, hub, port } = await startHono(Number(process.env.PORT ?? 3000))
  hub.log.info({ port }, 'example: hono with wshub on one port')
  const stop = () => void hub.close().then(() => server.close(() => process.exit(0)))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
