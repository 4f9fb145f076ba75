/**
 * What a client is told when a route's schema refuses its `data`: error 1001, a message
 * naming the first failing path, and `details.issues` listing each path and reason,
 * bounded (a hostile frame can make a validator report thousands of issues; the answer
 * stays a few KiB whatever it sends).
 */
import { AppError, ErrorCode } from '../errors.js'
import type { StandardSchemaV1 } from './standard-schema.js'

/**
 * Checks `target.data`: null when it is valid (a Standard Schema's output then replaces
 * it: defaults, transforms, stripped keys), its issues otherwise. A promise only for a
 * schema that validates asynchronously.
 */
export type DataCheck = (target: { data: unknown }) => ReadonlyArray<Issue> | null | Promise<ReadonlyArray<Issue> | null>

/** Issues listed in `details`; the rest are counted in `details.omitted`. */
export const MAX_ISSUES = 10
/** Characters kept of an issue's message. */
export const MAX_MESSAGE = 200
/** Segments kept of a path (a deeper one ends in `'…'`), and characters kept of each key. */
export const MAX_PATH = 8
export const MAX_KEY = 64

/** One failing place of `data`, as `details.issues` carries it. */
export interface DataIssue {
  /** Keys from `data` down to the failing value: `['items', 0, 'qty']`; `[]` for `data` itself. */
  path: Array<string | number>
  message: string
}

/** The `details` of a 1001 from a route's schema. */
export interface DataIssues {
  issues: DataIssue[]
  /** How many issues were left out past {@link MAX_ISSUES}. */
  omitted?: number
}

/** An issue as wshub's own validators and the JSON Schema adapter report it. */
export type Issue = StandardSchemaV1.Issue

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`
}

function segment(part: PropertyKey | StandardSchemaV1.PathSegment): string | number {
  const key = typeof part === 'object' && part !== null ? part.key : part
  if (typeof key === 'number') return key
  return clip(typeof key === 'symbol' ? String(key) : String(key), MAX_KEY)
}

function boundedPath(path: Issue['path']): Array<string | number> {
  if (path === undefined) return []
  const out: Array<string | number> = []
  for (let i = 0; i < path.length; i++) {
    if (i === MAX_PATH) {
      out.push('…')
      break
    }
    out.push(segment(path[i]!))
  }
  return out
}

/** `data.items[0].qty`: the path as a reader writes it. */
export function formatPath(path: ReadonlyArray<string | number>): string {
  let out = 'data'
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`
  return out
}

/**
 * The 1001 for data a schema refused: `data.room_id: must be ...` (and how many more),
 * with every issue, bounded, in `details`.
 *
 * @example
 * ```ts
 * throw invalidData([{ message: 'must be a string', path: ['room_id'] }])
 * // AppError 1001 'data.room_id: must be a string', details { issues: [{ path: ['room_id'], message: 'must be a string' }] }
 * ```
 */
export function invalidData(issues: ReadonlyArray<Issue>): AppError {
  const listed: DataIssue[] = []
  const count = Math.min(issues.length, MAX_ISSUES)
  for (let i = 0; i < count; i++) {
    const issue = issues[i]!
    listed.push({ path: boundedPath(issue.path), message: clip(String(issue.message), MAX_MESSAGE) })
  }
  const details: DataIssues = { issues: listed }
  if (issues.length > MAX_ISSUES) details.omitted = issues.length - MAX_ISSUES
  const first = listed[0]
  const head = first === undefined ? 'data is invalid' : `${formatPath(first.path)}: ${first.message}`
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''
  return new AppError(ErrorCode.InvalidFormat, head + more, details)
}
