/**
 * The server of the compression benchmark: `createApp()` with its defaults and the
 * compression of the run (`WSHUB_WS_COMPRESSION_*` from the parent), plus two routes that
 * fan one frame out to the room `bench`: `publish` the way every wshub fan-out goes
 * (`app.to(room).send`: framed, and deflated, once), `publish_each` with one `send` per
 * member (ws frames, and deflates, it once per member), for what the frame-once path saves.
 * Prints `port <n>` when listening; SIGTERM stops it.
 */
import { createApp, encodeDelivery } from '../../lib/index.js'

const app = createApp({
  http: { host: '127.0.0.1', port: 0 },
  rate_limit: { per_connection: { rate: 1_000_000_000, burst: 1_000_000_000 } },
  log: { level: 'warn' },
})
app.route('publish', async (ctx) => {
  await ctx.app.to('bench').send('chat', ctx.data)
})
app.route('publish_each', (ctx) => {
  const frame = encodeDelivery('chat', ctx.data, Date.now())
  for (const conn of ctx.app.server.connections.values()) if (conn.rooms.has('bench')) conn.send(frame)
})
const address = await app.listen()
process.stdout.write(`port ${address.port}\n`)
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)))
