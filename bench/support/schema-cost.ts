/**
 * The cost of a route's schema check alone, in-process: the compiled check of the
 * schemas scenario A puts on `ping` (and a built-in route's own schema) run on the data
 * the load sends, timed over batches; the median batch gives ns per frame. It isolates
 * what end-to-end figures on a shared machine cannot resolve.
 */
import { z } from 'zod'
import { compileSchema, type DataCheck } from '../../lib/schema/compile.js'
import { builtinSchemas } from '../../lib/builtin-routes.js'
import { median } from './stats.js'

const BATCH = 200_000
const BATCHES = 15

function nsPerCheck(check: DataCheck, data: () => unknown): number {
  const samples: number[] = []
  const frames = Array.from({ length: 64 }, data)
  for (let b = 0; b < BATCHES; b++) {
    const target = { data: null as unknown }
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < BATCH; i++) {
      target.data = frames[i & 63]
      if (check(target) !== null) throw new Error('the bench data must be valid')
    }
    samples.push(Number(process.hrtime.bigint() - t0) / BATCH)
  }
  return median(samples.slice(2)) // the first batches warm the JIT up
}

/** ns per valid frame of each check. */
export function schemaCheckCost(): Record<string, number> {
  const ping = () => ({ ts: Math.round(performance.now()) })
  return {
    zod: nsPerCheck(compileSchema(z.object({ ts: z.number() })), ping),
    json: nsPerCheck(compileSchema({ type: 'object', required: ['ts'], properties: { ts: { type: 'number' } } }), ping),
    builtin: nsPerCheck(compileSchema(builtinSchemas.room_message), () => ({ room_id: 'lobby', content: { text: 'hi' } })),
  }
}
