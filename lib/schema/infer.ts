/**
 * Types only: the type of `data` a route's schema accepts, for handlers (`ctx.data`) and
 * for the client (`client.request(type, data)`). A Standard Schema says it itself
 * (`~standard.types`); a JSON Schema given inline or `as const` is read keyword by
 * keyword (type, properties, required, items, enum, const, anyOf/oneOf, nullable type
 * lists); what this reader does not know becomes `unknown`, never a wrong type.
 */
import type { StandardSchemaV1 } from './standard-schema.js'

type Simplify<T> = { [K in keyof T]: T[K] } & {}

type JsonPrimitive<T> = T extends 'string'
  ? string
  : T extends 'number' | 'integer'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'null'
        ? null
        : T extends 'array'
          ? unknown[]
          : T extends 'object'
            ? Record<string, unknown>
            : unknown

type RequiredKeys<S> = S extends { readonly required: ReadonlyArray<infer R> } ? R & string : never

type JsonObject<S> = S extends { readonly properties: infer P }
  ? Simplify<
      { -readonly [K in keyof P as K extends RequiredKeys<S> ? K : never]: FromJsonSchema<P[K]> } & {
        -readonly [K in keyof P as K extends RequiredKeys<S> ? never : K]?: FromJsonSchema<P[K]>
      }
    >
  : Record<string, unknown>

type JsonArray<S> = S extends { readonly items: infer I } ? (I extends ReadonlyArray<unknown> ? unknown[] : Array<FromJsonSchema<I>>) : unknown[]

type JsonTyped<S, T> = T extends 'object' ? JsonObject<S> : T extends 'array' ? JsonArray<S> : JsonPrimitive<T>

/**
 * The type of a value a JSON Schema accepts.
 *
 * @example
 * ```ts
 * const schema = { type: 'object', required: ['n'], properties: { n: { type: 'integer' }, tag: { type: 'string' } } } as const
 * type Data = FromJsonSchema<typeof schema>   // { n: number; tag?: string }
 * ```
 */
export type FromJsonSchema<S> = S extends { readonly const: infer C }
  ? C
  : S extends { readonly enum: ReadonlyArray<infer E> }
    ? E
    : S extends { readonly anyOf: ReadonlyArray<infer A> }
      ? FromJsonSchema<A>
      : S extends { readonly oneOf: ReadonlyArray<infer O> }
        ? FromJsonSchema<O>
        : S extends { readonly type: ReadonlyArray<infer T> }
          ? JsonTyped<S, T>
          : S extends { readonly type: infer T }
            ? JsonTyped<S, T>
            : unknown

/**
 * The type of `data` once a schema accepted it: a Standard Schema's output, or what a
 * JSON Schema describes; `unknown` with no schema.
 *
 * @example
 * ```ts
 * type Order = InferData<typeof orderSchema>   // z.infer<typeof orderSchema> for a zod schema
 * ```
 */
export type InferData<S> = [S] extends [undefined]
  ? unknown
  : S extends StandardSchemaV1
    ? StandardSchemaV1.InferOutput<S>
    : FromJsonSchema<S>

/** What a client sends for a schema: a Standard Schema's input type, or what a JSON Schema describes. */
export type InferInput<S> = [S] extends [undefined]
  ? unknown
  : S extends StandardSchemaV1
    ? StandardSchemaV1.InferInput<S>
    : FromJsonSchema<S>
