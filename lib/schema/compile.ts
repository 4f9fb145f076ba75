/**
 * A route's schema, compiled once when the route is registered into one function the
 * router calls per frame. A Standard Schema (zod, valibot, arktype, ...) is called
 * through `~standard.validate`; a plain object is a JSON Schema, compiled by ajv (loaded
 * on the first such route only); wshub's own schemas bring their check ready-made.
 */
import type { StandardSchemaV1 } from './standard-schema.js'
import type { DataCheck, Issue } from './issues.js'
import { compileJsonSchema, type JsonSchema } from './json-schema.js'

export type { DataCheck } from './issues.js'
export type { JsonSchema } from './json-schema.js'


/** Where wshub's own schemas keep their check, so the router skips `validate`'s result object. */
export const OWN_CHECK: unique symbol = Symbol('wshub.check')


/** What `schema` of a route takes: any Standard Schema, or a JSON Schema. */
export type Schema = StandardSchemaV1 | JsonSchema

function isThenable<T>(value: unknown): value is PromiseLike<T> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function'
}

type Outcome = ReadonlyArray<Issue> | null
type Props = StandardSchemaV1.Props

function accept(target: { data: unknown }, result: StandardSchemaV1.Result<unknown>, refused: ReadonlyArray<Issue>): Outcome {
  if (result.issues !== undefined) return refused
  target.data = result.value
  return null
}

/**
 * A frame without `data` carries null (PROTOCOL.md section 2: absent = null), where a
 * JavaScript schema says "optional" with undefined: data null that the schema refuses is
 * tried again as undefined, so `.optional()` and `.default()` accept a request sent with
 * no data. Only refused data pays for the second call.
 */
function asAbsent(props: Props, target: { data: unknown }, refused: ReadonlyArray<Issue>): Outcome | Promise<Outcome> {
  const again = props.validate(undefined)
  if (isThenable<StandardSchemaV1.Result<unknown>>(again)) return Promise.resolve(again).then((result) => accept(target, result, refused))
  return accept(target, again, refused)
}

function settle(props: Props, target: { data: unknown }, result: StandardSchemaV1.Result<unknown>): Outcome | Promise<Outcome> {
  if (result.issues === undefined) {
    target.data = result.value
    return null
  }
  return target.data === null ? asAbsent(props, target, result.issues) : result.issues
}

function standardCheck(props: Props): DataCheck {
  return function standardCheck(target) {
    // Called as a method: a vendor's validate may rely on `this`.
    const result = props.validate(target.data)
    if (isThenable<StandardSchemaV1.Result<unknown>>(result)) return Promise.resolve(result).then((r) => settle(props, target, r))
    return settle(props, target, result)
  }
}

/** True for a Standard Schema (an object or function carrying `~standard`). */
export function isStandardSchema(schema: unknown): schema is StandardSchemaV1 {
  return (typeof schema === 'object' || typeof schema === 'function') && schema !== null && '~standard' in schema
}

/**
 * Compiles a route's schema; throws a `TypeError` for what is neither a Standard Schema
 * nor a valid JSON Schema (ajv's own message says what is wrong in it).
 *
 * @example
 * ```ts
 * const check = compileSchema({ type: 'object', required: ['n'], properties: { n: { type: 'integer' } } })
 * check({ data: { n: 'x' } })   // → [{ message: 'must be integer', path: ['n'] }]
 * ```
 */
export function compileSchema(schema: unknown): DataCheck {
  if ((typeof schema !== 'object' && typeof schema !== 'function') || schema === null) {
    throw new TypeError('schema must be a Standard Schema (zod, valibot, arktype, ...) or a JSON Schema object')
  }
  const own = (schema as { [OWN_CHECK]?: unknown })[OWN_CHECK]
  if (typeof own === 'function') return own as DataCheck
  if (isStandardSchema(schema)) {
    const props = schema['~standard']
    if (typeof props !== 'object' || props === null || props.version !== 1 || typeof props.validate !== 'function') {
      throw new TypeError('schema: ~standard must be a Standard Schema v1 (version 1, with a validate function)')
    }
    return standardCheck(props)
  }
  if (typeof schema === 'function' || Array.isArray(schema)) {
    throw new TypeError('schema must be a Standard Schema (zod, valibot, arktype, ...) or a JSON Schema object')
  }
  return compileJsonSchema(schema as JsonSchema)
}
