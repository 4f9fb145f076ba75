/**
 * wshub on a Fastify server: `/hello` is Fastify's, `/ws`, `/health` and `/api/*` are
 * wshub's, all on one port (wshub attaches to `fastify.server`). Run: `npm run build &&
 * node dist/examples/fastify/server.js` (PORT, default 3000).
 */
import { pathToFileURL } from 'node:url'
import type { AddressInfo } from 'node:net'
import Fastify from 'fastify'
import { createApp, type ConfigInput } from '../../lib/index.js'

/** Starts Fastify on `port` with wshub attached; `hub.close()` drains wshub's clients and leaves Fastify serving. */
export async function startFastify(port = 3000, config: ConfigInput = {}) {
  const web = Fastify()
  web.get('/hello', async () => ({ hello: 'from fastify' }))
  await web.listen({ port, host: '127.0.0.1' })

  const hub = createApp(config)
  hub.route('echo', (ctx) => ctx.reply('echo_reply', ctx.data))
  await hub.attach(web.server)
  return { web, server: web.server, hub, port: (web.server.address() as AddressInfo).port }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { web, hub, port } = await startFastify(Number(process.env.PORT ?? 3000))
  hub.log.info({ port }, 'example: fastify with wshub on one port')
  const stop = () => void hub.close().then(() => web.close()).then(() => process.exit(0))
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}
