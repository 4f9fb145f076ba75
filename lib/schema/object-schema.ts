/**
 * wshub's own schemas, for the built-in routes: an object of named fields, each a check
 * that answers a reason or null. They are Standard Schemas like any other (a user can
 * hand one to a route), and they also carry their check for the router, which then
 * validates a valid frame without making an object (no `validate` result, no issue list).
 */
import { isValidRoomId } from '../protocol.js'
import { OWN_CHECK, type DataCheck } from './compile.js'
import type { Issue } from './issues.js'
import type { StandardSchemaV1 } from './standard-schema.js'

/** One field of an {@link objectSchema}: its check, and whether it may be absent. */
export interface Field<T> {
  readonly optional: boolean
  /** null when the value (never `undefined`) is good; why it is not otherwise. */
  readonly check: (value: unknown) => string | null
  /** Types only. */
  readonly '~type'?: T
}

type TypeOf<F> = F extends Field<infer T> ? T : never

type Output<F extends Record<string, Field<unknown>>> = {
  [K in keyof F as F[K]['optional'] extends true ? never : K]: TypeOf<F[K]>
} & {
  [K in keyof F as F[K]['optional'] extends true ? K : never]?: TypeOf<F[K]>
}

/** An {@link objectSchema}: a Standard Schema with its check ready for the router. */
export interface ObjectSchema<T> extends StandardSchemaV1<T, T> {
  readonly [OWN_CHECK]: DataCheck
}

function field<T>(check: (value: unknown) => string | null): Field<T> & { readonly optional: false } {
  return { optional: false, check }
}

/** The same field, allowed to be absent. */
export function optional<T>(of: Field<T>): Field<T> & { readonly optional: true } {
  return { optional: true, check: of.check }
}

/** A room id: 1..128 chars of `[a-zA-Z0-9_.:-]` (PROTOCOL.md section 3). */
export const roomId = field<string>((value) => (isValidRoomId(value) ? null : 'must be 1..128 chars of [a-zA-Z0-9_.:-]'))

/** A history offset: a non-negative safe integer, or null. */
export const offset = field<number | null>((value) => (value === null || (Number.isSafeInteger(value) && (value as number) >= 0) ? null : 'must be a non-negative integer offset'))

/** Any JSON value, but present. */
export const present = field<unknown>(() => null)

/** A string of at least one char. */
export const nonEmpty = field<string>((value) => (typeof value === 'string' && value !== '' ? null : 'must be a non-empty string'))

/** A string of `min`..`max` chars. */
export function text(min: number, max: number): Field<string> & { readonly optional: false } {
  const reason = `must be a string of ${min}..${max} chars`
  return field<string>((value) => (typeof value === 'string' && value.length >= min && value.length <= max ? null : reason))
}

const NOT_AN_OBJECT: ReadonlyArray<Issue> = Object.freeze([Object.freeze({ message: 'must be an object', path: [] })])

/**
 * A rule over the whole object, run once every field passed: null when it holds, the
 * issues otherwise (made ahead of time where they can be, so a refusal makes nothing).
 */
export type ObjectRule<T> = (data: T) => ReadonlyArray<Issue> | null

type ObjectOf<F extends Record<string, Field<unknown>>> = { [K in keyof Output<F>]: Output<F>[K] }

/**
 * An object with these fields (others are let through, as JSON Schema does by default),
 * and, where given, a rule that relates them.
 *
 * @example
 * ```ts
 * const joinRoom = objectSchema({ room_id: roomId, since: optional(offset) })
 * app.route('my_join', { schema: joinRoom }, (ctx) => ctx.join(ctx.data.room_id, ctx.data.since ?? null))
 * ```
 */
export function objectSchema<F extends Record<string, Field<unknown>>>(fields: F, rule?: ObjectRule<ObjectOf<F>>): ObjectSchema<ObjectOf<F>> {
  const names = Object.keys(fields)
  const checks = names.map((name) => fields[name]!.check)
  const optionals = names.map((name) => fields[name]!.optional)
  const paths = names.map((name) => Object.freeze([name]))

  function objectCheck(target: { data: unknown }): ReadonlyArray<Issue> | null {
    const data = target.data
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return NOT_AN_OBJECT
    let issues: Issue[] | null = null
    for (let i = 0; i < names.length; i++) {
      const value = (data as Record<string, unknown>)[names[i]!]
      const reason = value === undefined ? (optionals[i] ? null : 'is required') : checks[i]!(value)
      if (reason !== null) (issues ??= []).push({ message: reason, path: paths[i] })
    }
    if (issues === null && rule !== undefined) return rule(data as ObjectOf<F>)
    return issues
  }

  return {
    [OWN_CHECK]: objectCheck,
    '~standard': {
      version: 1,
      vendor: 'wshub',
      validate(value: unknown) {
        const issues = objectCheck({ data: value })
        return issues === null ? { value: value as never } : { issues }
      },
    },
  }
}
