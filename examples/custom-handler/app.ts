/**
 * The quick start: a node with the default chain, one timing middleware, and two routes.
 *
 *   npm run build && node dist/examples/custom-handler/app.js
 *   # then, from any WebSocket client (here `npx wscat -c ws://127.0.0.1:8080/ws`):
 *   {"message_type":"my_custom_action","message_id":1}
 *   {"message_type":"join_room","data":{"room_id":"lobby"}}
 *   {"message_type":"shout","data":{"room_id":"lobby","text":"hi"}}
 */
import { createApp, loadConfig } from 'wshub'

const app = createApp(loadConfig(process.argv[2]))   // no file: the defaults (and WSHUB_* env vars)

app.use(async function timing(ctx, next) {
  const started = performance.now()
  await next()
  ctx.log.debug({ ms: performance.now() - started }, 'handled')
})

app.route('my_custom_action', async (ctx) => {
  ctx.reply('my_custom_action_reply', { ok: true, you: ctx.client.id })
})

app.route('shout', { permission: 'send:message' }, async (ctx) => {
  await ctx.to(ctx.data.room_id).send('shout', { text: String(ctx.data.text).toUpperCase(), from: ctx.client.id })
})

app.on('disconnect', (client, { code }) => app.log.info({ client_id: client.id, code }, 'bye'))

const { port } = await app.listen()
process.once('SIGINT', () => void app.close().then(() => process.exit(0)))
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)))
export { app, port }
