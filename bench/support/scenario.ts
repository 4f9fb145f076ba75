/**
 * What the scenarios share: variants (a target, and a bus for the cluster ones), runs
 * interleaved round by round (raw, socketio, wshub, raw, ...) so that the machine's noise
 * falls on every target alike, medians over the rounds, ratios to the baseline, and the
 * issue's goals checked against those ratios.
 */
import { median } from './stats.js'
import type { TargetKind } from './targets.js'

export interface Variant {
  id: string
  target: TargetKind
  bus: 'none' | 'redis' | 'nats' | 'redis-cluster'
  label: string
  /** wshub only: the schema its `ping` route gets (scenario A's cost of validation); none by default. */
  routeSchema?: RouteSchema
}

/** A schema on the wshub target's `ping` route: none (the built-in route), a zod schema, or a JSON Schema (ajv). */
export type RouteSchema = 'none' | 'zod' | 'json'

export interface RunResult {
  metrics: Record<string, number>
  notes: string[]
}

export interface VariantSummary {
  id: string
  label: string
  runs: RunResult[]
  failures: string[]
  median: Record<string, number>
  /** Median over the baseline's median, per metric. */
  ratio: Record<string, number>
  /** Why the variant could not run at all in this build, if so. */
  unavailable: string | null
}

export interface Goal {
  variant: string
  metric: string
  op: '>=' | '<='
  ratio: number
  label: string
}

export interface GoalCheck extends Goal {
  actual: number | null
  met: boolean | null
}

export interface ScenarioResult {
  id: string
  title: string
  params: Record<string, unknown>
  baseline: string
  metrics: Array<{ key: string; label: string; digits: number }>
  variants: VariantSummary[]
  goals: GoalCheck[]
  notes: string[]
  seconds: number
  extra?: unknown
}

/** Thrown when a variant cannot start in this build (a bus backend not merged yet). */
export class Unavailable extends Error {}

/** Runs every variant `rounds` times, interleaved, and summarises. */
export async function interleave(
  variants: readonly Variant[],
  rounds: number,
  baseline: string,
  run: (variant: Variant, round: number) => Promise<RunResult>,
  log: (line: string) => void,
): Promise<VariantSummary[]> {
  const results = new Map<string, { runs: RunResult[]; failures: string[]; unavailable: string | null }>()
  for (const v of variants) results.set(v.id, { runs: [], failures: [], unavailable: null })
  for (let round = 1; round <= rounds; round++) {
    for (const variant of variants) {
      const slot = results.get(variant.id)!
      if (slot.unavailable !== null) continue
      try {
        const result = await run(variant, round)
        slot.runs.push(result)
        log(`  round ${round} ${variant.label.padEnd(18)} ${formatMetrics(result.metrics)}${result.notes.length ? `  [${result.notes.join('; ')}]` : ''}`)
      } catch (err) {
        if (err instanceof Unavailable) {
          slot.unavailable = err.message
          log(`  ${variant.label}: not available in this build (${err.message})`)
        } else {
          slot.failures.push((err as Error).message)
          log(`  round ${round} ${variant.label}: FAILED ${(err as Error).message}`)
        }
      }
    }
  }
  const summaries = variants.map((v): VariantSummary => {
    const slot = results.get(v.id)!
    const keys = new Set(slot.runs.flatMap((r) => Object.keys(r.metrics)))
    const med: Record<string, number> = {}
    for (const key of keys) med[key] = median(slot.runs.map((r) => r.metrics[key] ?? Number.NaN))
    return { id: v.id, label: v.label, runs: slot.runs, failures: slot.failures, median: med, ratio: {}, unavailable: slot.unavailable }
  })
  const base = summaries.find((s) => s.id === baseline)
  for (const s of summaries) {
    for (const [key, value] of Object.entries(s.median)) {
      const b = base?.median[key]
      s.ratio[key] = b === undefined || !Number.isFinite(b) || b === 0 ? Number.NaN : value / b
    }
  }
  return summaries
}

/** Checks the goals against the ratios; a goal whose variant did not run is unknown (null). */
export function checkGoals(goals: readonly Goal[], variants: readonly VariantSummary[]): GoalCheck[] {
  return goals.map((goal) => {
    const ratio = variants.find((v) => v.id === goal.variant)?.ratio[goal.metric]
    if (ratio === undefined || !Number.isFinite(ratio)) return { ...goal, actual: null, met: null }
    return { ...goal, actual: ratio, met: goal.op === '>=' ? ratio >= goal.ratio : ratio <= goal.ratio }
  })
}

export function formatMetrics(metrics: Record<string, number>): string {
  return Object.entries(metrics)
    .map(([k, v]) => `${k}=${Math.abs(v) >= 100 ? Math.round(v) : Number(v.toPrecision(3))}`)
    .join(' ')
}
