/**
 * Types only: what a client typed with a server's routes (`WshubClient<typeof app>`,
 * `WshubClient<typeof routes>` or a route map) may send and receives back.
 */
import type { AckData, BuiltinEvents, BuiltinRoutes, RouteEntry } from '../route-map.js'
import type { MessageId } from '../protocol.js'

/** The default of `WshubClient`: no route map, every type and payload as before (`any`). */
export interface Untyped {
  readonly '~untyped': true
}

type Defined<D> = { [K in keyof D & string]: NonNullable<D[K] extends { readonly '~route'?: infer E } ? E : never> }

/** The routes of an app or route map given as a type argument, on top of the built-in ones (which an app may redefine). */
type Own<X> = X extends { readonly '~routes': infer R }
  ? R
  : X extends { readonly [type: string]: { readonly handler: unknown; readonly options: unknown } }
    ? Defined<X>
    : X

/** The full route map a client of `X` can call. */
export type ClientRoutes<X> = { [K in keyof BuiltinRoutes as K extends keyof Own<X> ? never : K]: BuiltinRoutes[K] } & Own<X>

/** A reply frame of one `message_type`. */
export interface ReplyFrame<Type extends string, Data> {
  message_type: Type
  data: Data
  request_id?: MessageId
  timestamp?: number
}

/**
 * What `request()` resolves to for a route: one of its declared replies, or the `ack`
 * a repeat gets from the server's dedup (narrow on `message_type`); any frame where the
 * route declares no replies.
 */
export type ReplyTo<E> = E extends RouteEntry<any, infer Replies>
  ? keyof Replies extends never
    ? ReplyFrame<string, unknown>
    : { [K in keyof Replies & string]: ReplyFrame<K, Replies[K]> }[keyof Replies & string] | ReplyFrame<'ack', AckData>
  : never

/** The names `request()` takes for a client of `R`. */
export type RequestType<R> = R extends Untyped ? never : keyof ClientRoutes<R> & string

/** `request()`'s arguments after the type: the data (optional where the route takes none), then the options. */
export type RequestArgs<E, Options> = E extends RouteEntry<infer D, any>
  ? undefined extends D
    ? [data?: D, options?: Options]
    : [data: D, options?: Options]
  : never

type Replies<R> = { [K in keyof ClientRoutes<R>]: ClientRoutes<R>[K] extends RouteEntry<any, infer P> ? P : never }[keyof ClientRoutes<R>]
type UnionToIntersection<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never

/** What the server sends, by `message_type`, to a client of `R`: the built-in events and every reply a route declares. */
export type ServerEvents<R> = BuiltinEvents & UnionToIntersection<Replies<R>>

/** The payload of frames of `K` for a client of `R` (`unknown` for a type no route or built-in declares). */
export type EventData<R, K extends string> = K extends keyof ServerEvents<R> ? ServerEvents<R>[K] : unknown

/** The names `on()` takes as `message_type`s with typed payloads: any string, for a typed client. */
export type TypedEventName<R> = R extends Untyped ? never : string

/** The names the untyped `on<T>()` and `request<T>()` take: any string, for an untyped client only. */
export type UntypedName<R> = R extends Untyped ? string : never
