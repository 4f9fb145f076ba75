/**
 * The Standard Schema interface, version 1 (standardschema.dev): what zod, valibot,
 * arktype and others implement, so a route can take any of them and wshub depends on
 * none. Declared here rather than taken from `@standard-schema/spec`: the spec asks
 * implementers to copy it (it is types only, and stable by design), and wshub's
 * published `.d.ts` then needs no package beside it. TypeScript compares it by
 * structure, so every vendor's schema fits it as well as the package's own copy would.
 */

/**
 * A validator in the Standard Schema form: `~standard.validate` checks a value and
 * returns its output or its issues, synchronously or as a promise.
 *
 * @example
 * ```ts
 * import { z } from 'zod'
 * const schema: StandardSchemaV1<unknown, { n: number }> = z.object({ n: z.number() })
 * ```
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': StandardSchemaV1.Props<Input, Output>
}

// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace StandardSchemaV1 {
  /** What every Standard Schema carries under `~standard`. */
  export interface Props<Input = unknown, Output = Input> {
    readonly version: 1
    readonly vendor: string
    readonly validate: (value: unknown) => Result<Output> | Promise<Result<Output>>
    readonly types?: Types<Input, Output> | undefined
  }

  export type Result<Output> = SuccessResult<Output> | FailureResult

  export interface SuccessResult<Output> {
    readonly value: Output
    readonly issues?: undefined
  }

  export interface FailureResult {
    readonly issues: ReadonlyArray<Issue>
  }

  /** One reason a value was refused, and where in it. */
  export interface Issue {
    readonly message: string
    readonly path?: ReadonlyArray<PropertyKey | PathSegment> | undefined
  }

  export interface PathSegment {
    readonly key: PropertyKey
  }

  /** Types only: what the schema takes and what it gives. */
  export interface Types<Input = unknown, Output = Input> {
    readonly input: Input
    readonly output: Output
  }

  export type InferInput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['input']
  export type InferOutput<Schema extends StandardSchemaV1> = NonNullable<Schema['~standard']['types']>['output']
}
