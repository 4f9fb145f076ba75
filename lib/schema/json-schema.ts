/**
 * JSON Schema routes: compiled by ajv once, when the route is registered. The one file
 * that loads ajv, and only when the first JSON Schema route appears, so a node whose
 * routes use Standard Schemas (or none) never loads it.
 */
import { createRequire } from 'node:module'
import type { Ajv, ErrorObject, ValidateFunction } from 'ajv'
import type { DataCheck, Issue } from './issues.js'

/** A JSON Schema, given as a plain object (`as const`, or inline, for its type to be inferred). */
export type JsonSchema = { readonly [keyword: string]: unknown }

let shared: Ajv | null = null

/**
 * The ajv instance that compiles every JSON Schema route of the process, made on first
 * use: `allErrors` (every failing path is reported), `strict` (an unknown keyword or
 * format is an error at registration, not a check silently skipped). Add formats or
 * keywords to it before registering the routes that use them.
 *
 * @example
 * ```ts
 * import addFormats from 'ajv-formats'
 * addFormats(jsonSchemaValidator())
 * app.route('signup', { schema: { type: 'object', properties: { email: { type: 'string', format: 'email' } } } }, handler)
 * ```
 */
export function jsonSchemaValidator(): Ajv {
  if (shared === null) {
    // ajv is CommonJS: required synchronously, so a route is compiled when it is registered.
    const { Ajv: AjvClass } = createRequire(import.meta.url)('ajv') as { Ajv: typeof Ajv }
    shared = new AjvClass({ allErrors: true, strict: true })
  }
  return shared
}

function pathOf(pointer: string): Array<string | number> {
  if (pointer === '') return []
  return pointer
    .slice(1)
    .split('/')
    .map((part) => (/^(0|[1-9]\d*)$/.test(part) ? Number(part) : part.replace(/~1/g, '/').replace(/~0/g, '~')))
}

function issueOf(error: ErrorObject): Issue {
  const path = pathOf(error.instancePath)
  // Name the missing or extra key in the path, as Standard Schema validators do.
  if (error.keyword === 'required') return { path: [...path, String(error.params.missingProperty)], message: 'is required' }
  if (error.keyword === 'additionalProperties') return { path: [...path, String(error.params.additionalProperty)], message: 'is not allowed' }
  return { path, message: error.message ?? `fails ${error.keyword}` }
}

/**
 * The compiled schema already registered under this schema's `$id`, when it is the same
 * schema: a second app in the process (tests make one each), or a route registered
 * again, brings an equal copy, which ajv would refuse ("already exists"). A different
 * schema under a taken `$id` is refused, naming it.
 */
function knownById(ajv: Ajv, schema: JsonSchema): ValidateFunction | undefined {
  if (typeof schema.$id !== 'string') return undefined
  const known = ajv.getSchema(schema.$id)
  if (known === undefined || known.schema === schema) return known
  if (JSON.stringify(known.schema) === JSON.stringify(schema)) return known
  throw new TypeError(`schema: $id ${JSON.stringify(schema.$id)} names another JSON Schema already registered in this process; give this one its own $id`)
}

/** Compiles a JSON Schema into a route's check; throws a `TypeError` with ajv's reason for a bad schema. */
export function compileJsonSchema(schema: JsonSchema): DataCheck {
  if (schema.$async === true) throw new TypeError('schema: $async JSON Schemas are not supported; validate synchronously')
  const ajv = jsonSchemaValidator()
  let validate = knownById(ajv, schema)
  if (validate === undefined) {
    try {
      validate = ajv.compile(schema)
    } catch (err) {
      throw new TypeError(`schema: not a valid JSON Schema: ${(err as Error).message}`)
    }
  }
  const compiled: ValidateFunction = validate
  return function jsonSchemaCheck(target) {
    if (compiled(target.data) === true) return null
    return (compiled.errors ?? []).map(issueOf)
  }
}
