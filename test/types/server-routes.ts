/**
 * Type tests of the server side: this file must compile, and each `@ts-expect-error`
 * line must be an error (an unused one is an error itself). Checked by tsc in the build
 * and by test/unit/type-tests.test.ts. Nothing here runs.
 */
import { z } from 'zod'
import * as v from 'valibot'
import { createApp, defineMiddleware, defineRoute, defineRoutes, type Application, type BuiltinRoutes, type Context, type InferData } from 'wshub'
import { builtinSchemas } from '../../lib/builtin-routes.js'
import { authDataSchema } from 'wshub/middleware/auth'

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
function expectType<T extends true>(): T | void {}

export function routeData(app: Application): void {
  // zod: ctx.data is the schema's output
  app.route('order', { schema: z.object({ sku: z.string(), qty: z.number().default(1) }) }, (ctx) => {
    expectType<Equal<typeof ctx.data, { sku: string; qty: number }>>()
    // @ts-expect-error no such field in the schema
    void ctx.data.price
  })
  // valibot, the same way
  app.route('named', { schema: v.object({ name: v.string(), age: v.optional(v.number()) }) }, (ctx) => {
    expectType<Equal<typeof ctx.data, { name: string; age?: number | undefined }>>()
    // @ts-expect-error age may be undefined
    ctx.data.age.toFixed()
  })
  // an inline JSON Schema, no `as const` needed
  app.route('move', { schema: { type: 'object', required: ['x'], properties: { x: { type: 'integer' }, label: { type: 'string' }, mode: { enum: ['a', 'b'] } } } }, (ctx) => {
    expectType<Equal<typeof ctx.data, { x: number; label?: string; mode?: 'a' | 'b' }>>()
    // @ts-expect-error x is a number
    ctx.data.x.toUpperCase()
  })
  // a JSON Schema declared apart, `as const`
  const tags = { type: 'array', items: { type: ['string', 'null'] } } as const
  app.route('tags', { schema: tags }, (ctx) => {
    expectType<Equal<typeof ctx.data, Array<string | null>>>()
  })
  // no schema: data stays `any`, as before
  app.route('free', (ctx) => {
    expectType<Equal<typeof ctx.data, any>>()
  })
  app.route('free2', { permission: 'send:message' }, (ctx) => {
    expectType<Equal<typeof ctx.data, any>>()
  })
}

export function replies(app: Application): void {
  app.route('add', { schema: z.object({ a: z.number(), b: z.number() }), replies: { sum: z.number() } }, (ctx) => {
    ctx.reply('sum', ctx.data.a + ctx.data.b)
    // @ts-expect-error sum is a number
    ctx.reply('sum', 'three')
    // @ts-expect-error not a declared reply
    ctx.reply('total', 3)
  })
  // without replies, any type and data
  app.route('any', (ctx) => ctx.reply('whatever', { x: 1 }))
}

declare module 'wshub' {
  interface State {
    merged?: number
  }
}

export function typedState(): void {
  const orgUnit = defineMiddleware<{ orgUnit: string }>(async function orgUnit(ctx, next) {
    ctx.state.orgUnit = 'acme'
    await next()
  })
  const timed = defineMiddleware<{ requestStart: number }>(async function timed(ctx, next) {
    ctx.state.requestStart = Date.now()
    await next()
  })
  const app = createApp({}, { defaults: false }).use(orgUnit).use(timed)
  app.route('who', (ctx) => {
    expectType<Equal<typeof ctx.state.orgUnit, string>>()
    expectType<Equal<typeof ctx.state.requestStart, number>>()
    expectType<Equal<typeof ctx.state.merged, number | undefined>>()
    // @ts-expect-error nothing added this
    void ctx.state.missing
  })
  app.route('who2', { schema: z.object({ n: z.number() }) }, (ctx) => {
    expectType<Equal<typeof ctx.state.orgUnit, string>>()
  })
  // an app whose type does not carry the middleware sees only the declaration-merged State
  const plain = createApp({}, { defaults: false })
  plain.use(orgUnit)
  plain.route('who', (ctx) => {
    // @ts-expect-error plain's type was not reassigned
    void ctx.state.orgUnit
  })
  // a typed app is still an Application where one is expected
  const asApp: Application = app
  void asApp
}

export function definedRoutes(): void {
  const add = defineRoute({ schema: z.object({ a: z.number(), b: z.number() }), replies: { sum: z.number() } }, (ctx) => {
    ctx.reply('sum', ctx.data.a + ctx.data.b)
    // @ts-expect-error sum is a number
    ctx.reply('sum', '3')
  })
  const routes = defineRoutes({ add, echo: defineRoute({}, (ctx: Context) => ctx.reply('echo_reply', ctx.data)) })
  createApp().routes(routes)
  // @ts-expect-error a route must come from defineRoute
  defineRoutes({ bad: (ctx: Context) => ctx })
}

/** The built-in routes' schemas take exactly what the client's map of them says. */
export function builtinsAgree(): void {
  type Says<K extends keyof typeof builtinSchemas> = Equal<InferData<(typeof builtinSchemas)[K]>, BuiltinRoutes[K]['data']>
  expectType<Says<'join_room'>>()
  expectType<Says<'leave_room'>>()
  expectType<Says<'room_message'>>()
  expectType<Says<'direct_message'>>()
  expectType<Says<'room_members'>>()
  expectType<Equal<InferData<typeof authDataSchema>, BuiltinRoutes['auth']['data']>>()
}
