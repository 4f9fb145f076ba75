/**
 * Typed routes with zod: every route declares the schema of its data and its replies,
 * so a frame with bad data gets error 1001 listing each failing field before any handler
 * runs, handlers get `ctx.data` typed, and `export type App = typeof app` gives the
 * client the same types (client.ts).
 *
 *   npm run build && node dist/examples/typed-orders/server.js
 *   node dist/examples/typed-orders/client.js ws://127.0.0.1:8080/ws
 */
import { createApp, defineMiddleware, ErrorCode, loadConfig } from 'wshub'
import { ListQuery, NewOrder, Order, OrderList } from './schemas.js'

/** Who the orders belong to: the token's user, or `guest`. Typed: the routes below see `ctx.state.tenant` as a string. */
const tenant = defineMiddleware<{ tenant: string }>(async function tenant(ctx, next) {
  ctx.state.tenant = ctx.client.userId ?? 'guest'
  await next()
})

const orders = new Map<string, Order[]>()
let lastId = 0

export const app = createApp(loadConfig(process.argv[2]))
  .use(tenant)
  .route('create_order', { schema: NewOrder, replies: { order_created: Order } }, async (ctx) => {
    const order: Order = { ...ctx.data, id: `o-${++lastId}`, tenant: ctx.state.tenant, placed_at: Date.now() }
    const list = orders.get(order.tenant) ?? []
    list.push(order)
    orders.set(order.tenant, list.slice(-1000))
    ctx.reply('order_created', order)
    // Everyone watching the tenant's orders hears of it, with the same type.
    await ctx.to(`orders.${order.tenant}`).send('order_created', order)
  })
  .route('list_orders', { schema: ListQuery, replies: { orders: OrderList } }, (ctx) => {
    ctx.reply('orders', { orders: (orders.get(ctx.state.tenant) ?? []).slice(-ctx.data.limit) })
  })
  // A JSON Schema works the same way (compiled once by ajv); inline, it types ctx.data too.
  .route('cancel_order', { schema: { type: 'object', required: ['id'], additionalProperties: false, properties: { id: { type: 'string' } } }, replies: { order_cancelled: Order } }, (ctx) => {
    const list = orders.get(ctx.state.tenant) ?? []
    const at = list.findIndex((order) => order.id === ctx.data.id)
    if (at === -1) return ctx.throw(ErrorCode.InvalidFormat, `no order ${ctx.data.id}`)
    const [order] = list.splice(at, 1)
    ctx.reply('order_cancelled', order!)
  })

/** What the client imports (as a type only: no server code reaches it). */
export type App = typeof app

const { port } = await app.listen()
process.once('SIGINT', () => void app.close().then(() => process.exit(0)))
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)))
export { port }
