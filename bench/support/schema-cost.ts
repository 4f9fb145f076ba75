/**
 * The cost of a route's schema check alone, in-process: the compiled check of the
 * schemas scenario A puts on `ping` (and the built-in routes' own schemas) run on the
 * data the load sends, as the router runs it (`runCheck`). Time: timed over batches, the
 * median batch gives ns per frame. Memory: the growth of V8's young generation over a
 * run of valid frames gives bytes allocated per frame. It isolates what end-to-end
 * figures on a shared machine cannot resolve.
 */
import { getHeapSpaceStatistics } from 'node:v8'
import { z } from 'zod'
import { compileSchema, type DataCheck } from '../../lib/schema/compile.js'
import { runCheck } from '../../lib/schema/run-check.js'
import { builtinSchemas } from '../../lib/builtin-routes.js'
import { median } from './stats.js'

const BATCH = 200_000
const BATCHES = 15

function framesOf(data: () => unknown): unknown[] {
  return Array.from({ length: 64 }, data)
}

function checkValid(target: { data: unknown }, check: DataCheck): void {
  if (runCheck(target, check) !== null) throw new Error('the bench data must be valid, and checked synchronously')
}

function nsPerCheck(check: DataCheck, data: () => unknown): number {
  const samples: number[] = []
  const frames = framesOf(data)
  for (let b = 0; b < BATCHES; b++) {
    const target = { data: null as unknown }
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < BATCH; i++) {
      target.data = frames[i & 63]
      checkValid(target, check)
    }
    samples.push(Number(process.hrtime.bigint() - t0) / BATCH)
  }
  return median(samples.slice(2)) // the first batches warm the JIT up
}

function youngGenerationBytes(): number {
  for (const space of getHeapSpaceStatistics()) if (space.space_name === 'new_space') return space.space_used_size
  throw new Error('V8 reports no new_space')
}

/**
 * Bytes allocated per valid frame by the router's check (`runCheck` and the validator):
 * the young generation's growth over a run of checks, after a warm-up, less what reading
 * the heap's statistics makes itself; the median of 15 runs, leaving out those a
 * scavenge cut (the young generation shrank: they would read low, or below zero). A run
 * is 5,000 checks, fewer where the young generation is too small for most runs to
 * escape a scavenge (a validator making 160 B fills 800 KB in 5,000).
 */
export function bytesPerCheck(check: DataCheck, data: () => unknown): number {
  const frames = framesOf(data)
  const target = { data: null as unknown }
  for (let i = 0; i < 100_000; i++) {
    target.data = frames[i & 63]
    checkValid(target, check)
  }
  // The least of three rounds: code not yet optimized (compiled in the background) can
  // allocate what its optimized form does not, while a validator that allocates does so
  // in every round.
  let least = Infinity
  for (let round = 0; round < 3; round++) {
    const bytes = bytesPerRun((calls) => {
      for (let i = 0; i < calls; i++) {
        target.data = frames[i & 63]
        checkValid(target, check)
      }
    })
    least = Math.min(least, bytes)
  }
  return least
}

function bytesPerRun(checks: (calls: number) => void): number {
  const reading = growths(() => {})
  for (let calls = 5_000; calls >= 250; calls /= 2) {
    const growth = growths(() => checks(calls))
    if (growth !== null && reading !== null) return Math.max(0, growth - reading) / calls
  }
  throw new Error('bytesPerCheck: a scavenge cut most runs, even of 250 checks')
}

/** The median growth of the young generation over 15 runs of `work`, or null when scavenges cut most of them. */
function growths(work: () => void): number | null {
  const kept: number[] = []
  for (let run = 0; run < 15; run++) {
    const before = youngGenerationBytes()
    work()
    const after = youngGenerationBytes()
    if (after >= before) kept.push(after - before)
  }
  return kept.length < 8 ? null : median(kept)
}

const pingData = () => ({ ts: Math.round(performance.now()) })
const roomMessageData = () => ({ room_id: 'lobby', content: { text: 'hi' } })

/** The checks measured: what scenario A's variants put on `ping`, and a built-in route's own schema. */
export function measuredChecks(): Record<'zod' | 'json' | 'builtin', { check: DataCheck; data: () => unknown }> {
  return {
    zod: { check: compileSchema(z.object({ ts: z.number() })), data: pingData },
    json: { check: compileSchema({ type: 'object', required: ['ts'], properties: { ts: { type: 'number' } } }), data: pingData },
    builtin: { check: compileSchema(builtinSchemas.room_message), data: roomMessageData },
  }
}

/** ns and bytes per valid frame of each check. */
export function schemaCheckCost(): Record<'zod' | 'json' | 'builtin', { ns: number; bytes: number }> {
  const checks = measuredChecks()
  const out = {} as Record<'zod' | 'json' | 'builtin', { ns: number; bytes: number }>
  for (const [name, { check, data }] of Object.entries(checks) as Array<[keyof typeof checks, (typeof checks)['zod']]>) {
    out[name] = { ns: nsPerCheck(check, data), bytes: bytesPerCheck(check, data) }
  }
  return out
}
