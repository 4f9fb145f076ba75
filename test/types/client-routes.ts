/**
 * Type tests of a client typed with a server's routes: `typeof app` (routes chained on
 * the app) and `typeof routes` (a defineRoutes map). Must compile; each
 * `@ts-expect-error` line must be an error. Nothing here runs.
 */
import { z } from 'zod'
import { createApp, defineRoute, defineRoutes } from 'wshub'
import { WshubClient, type RouteEntry } from 'wshub/client'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function expectType<T extends true>(): T | void {}

const Order = z.object({ sku: z.string(), qty: z.number().int() })

function makeApp() {
  return createApp({}, { defaults: false })
    .route('create_order', { schema: Order, replies: { order_created: z.object({ id: z.string() }) } }, (ctx) => ctx.reply('order_created', { id: ctx.data.sku }))
    .route('free', (ctx) => ctx.reply('free_reply', ctx.data))
    .route('ping', { schema: z.object({ ts: z.number() }), replies: { pong: z.object({ ts: z.number(), server_ts: z.number() }) } }, (ctx) =>
      ctx.reply('pong', { ts: ctx.data.ts, server_ts: Date.now() }),
    )
}
type App = ReturnType<typeof makeApp>

export async function typedByApp(client: WshubClient<App>): Promise<void> {
  const reply = await client.request('create_order', { sku: 'a', qty: 2 })
  if (reply.message_type === 'order_created') expectType<Equal<typeof reply.data, { id: string }>>()
  else expectType<Equal<typeof reply.data, { status: 'ok'; duplicate?: boolean }>>()
  // @ts-expect-error qty must be a number
  await client.request('create_order', { sku: 'a', qty: '2' })
  // @ts-expect-error sku is required
  await client.request('create_order', { qty: 2 })
  // @ts-expect-error the data is required
  await client.request('create_order')
  // @ts-expect-error no such route
  await client.request('create_ordr', { sku: 'a', qty: 2 })
  // @ts-expect-error an untyped reply type argument is for untyped clients only
  await client.request<{ id: string }>('free')
  // a route without schema takes anything, and its reply is not known
  const free = await client.request('free', { anything: true })
  expectType<Equal<typeof free.data, unknown>>()
  // the built-in routes are there, and the app's redefinition of ping wins
  const joined = await client.request('join_room', { room_id: 'lobby', since: 0 })
  if (joined.message_type === 'room_joined') expectType<Equal<typeof joined.data.members, number>>()
  // @ts-expect-error ping now takes { ts: number }
  await client.request('ping', { ts: 'now' })
  // timeouts still go last
  await client.request('create_order', { sku: 'a', qty: 1 }, { timeout: 100 })

  client.on('room_message', (data) => expectType<Equal<typeof data.sender_id, string>>())
  client.on('order_created', (data, frame) => {
    expectType<Equal<typeof data, { id: string }>>()
    void frame.message_type
  })
  // @ts-expect-error the payload has no such field
  client.on('room_message', (data) => data.nope)
  // @ts-expect-error the handler must take what the server sends
  client.on('order_created', (data: { id: number }) => data)
  // lifecycle events keep their types
  client.on('reconnecting', ({ attempt, delay }) => attempt + delay)
  // frames no route declares are unknown
  client.on('shout', (data) => expectType<Equal<typeof data, unknown>>())
}

const routes = defineRoutes({
  add: defineRoute({ schema: z.object({ a: z.number(), b: z.number() }), replies: { sum: z.number() } }, (ctx) => ctx.reply('sum', ctx.data.a + ctx.data.b)),
})

export async function typedByDefinitions(client: WshubClient<typeof routes>): Promise<void> {
  const reply = await client.request('add', { a: 1, b: 2 })
  if (reply.message_type === 'sum') expectType<Equal<typeof reply.data, number>>()
  // @ts-expect-error b is missing
  await client.request('add', { a: 1 })
  // the built-ins come with it
  await client.request('leave_room', { room_id: 'x' })
  // @ts-expect-error room_id is required
  await client.request('leave_room', {})
}

export async function typedByMap(client: WshubClient<{ hello: RouteEntry<{ name: string }, { hi: string }> }>): Promise<void> {
  const reply = await client.request('hello', { name: 'x' })
  if (reply.message_type === 'hi') expectType<Equal<typeof reply.data, string>>()
}

export async function untyped(client: WshubClient): Promise<void> {
  // as before: any type, any data, a reply type argument
  const reply = await client.request<{ id: string }>('anything', { x: 1 })
  expectType<Equal<typeof reply.data, { id: string }>>()
  const plain = await client.request('anything')
  expectType<Equal<typeof plain.data, any>>()
  client.on<{ text: string }>('chat', (data) => data.text)
  client.on('room_message', (data) => expectType<Equal<typeof data, any>>())
}
