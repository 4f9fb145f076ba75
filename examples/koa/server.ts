/**
 * wshub in a Koa app, wired by hand instead of `attach()`: a Koa middleware hands the
 * node's HTTP routes (`/health`, `/metrics`, `/api/*`) to `hub.handleRequest`, and the
 * server's `upgrade` listener hands `/ws` to `hub.handleUpgrade`; `/hello` is Koa's. Run:
 * `npm run build && node dist/examples/koa/server.js` (PORT, default 3000).
 */
import { once } from 'node:events'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import Koa from 'koa'
import { createApp, type ConfigInput } from '../../lib/index.js'

/** Starts Koa on `port` with wshub beside it; `hub.close()` drains wshub's clients and leaves Koa serving. */
export async function startKoa(port = 3000, config: ConfigInput = {}) {
  const hub = createApp(config)
  hub.route('echo', (ctx) => ctx.reply('echo_reply', ctx.data))
  await hub.start()

  const web = new Koa()
  web.use(async (ctx, next) => {
    if (await hub.handleRequest(ctx.req, ctx.res)) ctx.respond = false
    else await next()
  })
  web.use(async (ctx, next) => {
    if (ctx.path === '/hello') ctx.body = { hello: 'from koa' }
    else await next()
  })

  const server = createServer(web.callback())
  server.on('upgrade', (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname === hub.config.ws.path) hub.handleUpgrade(req, socket, head)
    else socket.destroy()
  })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return { server, hub, port: (server.address() as AddressInfo).port }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { server, hub, port } = await startKoa(Number(process.env.PORT ?? 3000))
  hub.log.info({ port }, 'example: koa with wshub on one port')
  const stop = () => void hub.close().then(() => server.close(() => process.exit(0)))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
