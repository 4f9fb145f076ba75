/**
 * The router's per-frame use of a route's compiled schema, and the registration-time
 * check of its declared replies.
 */
import { AppError, ErrorCode } from '../errors.js'
import { isValidType } from '../protocol.js'
import { isStandardSchema, type DataCheck } from './compile.js'
import { invalidData } from './issues.js'

/** A 1001 for data too deeply nested for the validator's recursion; any other throw is the validator's own failure (1003). */
function validatorFailure(err: unknown): unknown {
  return err instanceof RangeError ? new AppError(ErrorCode.InvalidFormat, 'data is nested too deeply to validate') : err
}

/** Runs a route's check: null for valid data; throws the 1001 of refused data synchronously, so valid data costs no promise. */
export function runCheck(ctx: { data: unknown }, check: DataCheck): Promise<void> | null {
  let issues
  try {
    issues = check(ctx)
  } catch (err) {
    throw validatorFailure(err)
  }
  if (issues === null) return null
  if (Array.isArray(issues)) throw invalidData(issues)
  return (issues as Promise<ReadonlyArray<never> | null>).then(
    (late) => {
      if (late !== null) throw invalidData(late)
    },
    (err) => {
      throw validatorFailure(err)
    },
  )
}

/** Throws a `TypeError` unless `replies` maps valid message types to schemas. */
export function checkReplies(type: string, replies: unknown): void {
  if (typeof replies !== 'object' || replies === null || Array.isArray(replies)) throw new TypeError(`route ${type}: replies must be an object of reply types to schemas`)
  for (const [name, schema] of Object.entries(replies)) {
    if (!isValidType(name)) throw new TypeError(`route ${type}: reply type ${JSON.stringify(name)} must be 1..64 chars of [a-zA-Z0-9_.:-]`)
    if ((typeof schema !== 'object' || schema === null) && !isStandardSchema(schema)) throw new TypeError(`route ${type}: replies.${name} must be a schema`)
  }
}

