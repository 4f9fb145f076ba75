/**
 * Scenario A, request/response: `connections` clients each keep `inFlight` pings
 * outstanding (a closed loop per slot). Reports replies per second, per server
 * CPU-second, and the reply latency p50/p99 seen by the clients.
 */
import { sleep } from '../support/proc.js'
import { checkGoals, interleave, Unavailable, type RouteSchema, type ScenarioResult, type Variant, type VariantSummary } from '../support/scenario.js'
import { Histogram, monoMs, type HistogramData } from '../support/stats.js'
import { split, startTarget, Workers, type TargetKind } from '../support/targets.js'
import { schemaCheckCost } from '../support/schema-cost.js'

export interface RequestParams {
  targets: TargetKind[]
  rounds: number
  connections: number
  inFlight: number
  warmupMs: number
  durationMs: number
  loadProcs: number
  nodeArgs: Partial<Record<TargetKind, string[]>>
  /** Extra wshub variants with a schema on the `ping` route, against the built-in route without one. */
  schemas: Array<Exclude<RouteSchema, 'none'>>
}

const SCHEMA_LABELS = { zod: 'wshub + zod schema', json: 'wshub + JSON Schema' } as const

/** What a schema costs per request, in server CPU µs: the difference of the inverse throughputs per CPU-second. */
function validationNote(variants: VariantSummary[], id: string): string | null {
  const plain = variants.find((v) => v.id === 'wshub')?.median.req_per_cpu_s
  const schema = variants.find((v) => v.id === id)
  const withSchema = schema?.median.req_per_cpu_s
  if (plain === undefined || withSchema === undefined || !(plain > 0 && withSchema > 0)) return null
  const us = (1 / withSchema - 1 / plain) * 1e6
  return `${schema!.label}: ${(withSchema / plain).toFixed(2)}× the requests per server CPU-second of wshub without a schema, ${us.toFixed(2)} µs of server CPU per request`
}

function schemaNotes(p: RequestParams, summaries: VariantSummary[], log: (line: string) => void): string[] {
  if (p.schemas.length === 0 || !p.targets.includes('wshub')) return []
  const notes = p.schemas.map((s) => validationNote(summaries, `wshub-${s}`)).filter((n): n is string => n !== null)
  const c = schemaCheckCost()
  const alone =
    'The check alone, in-process, as the router runs it (bench/support/schema-cost.ts: median of 13 batches of 200,000 valid frames; bytes: growth of the young generation over 5,000, median of 15 runs): ' +
    `zod ${c.zod.ns.toFixed(0)} ns and ${c.zod.bytes.toFixed(0)} B, JSON Schema (ajv) ${c.json.ns.toFixed(0)} ns and ${c.json.bytes.toFixed(0)} B, ` +
    `a built-in route's own schema (room_message) ${c.builtin.ns.toFixed(0)} ns and ${c.builtin.bytes.toFixed(0)} B per frame; a route without a schema pays one null check`
  log(`  ${alone}`)
  return [...notes, alone]
}

export async function requestResponse(p: RequestParams, log: (line: string) => void): Promise<ScenarioResult> {
  const started = Date.now()
  const variants: Variant[] = p.targets.map((t) => ({ id: t, target: t, bus: 'none', label: t }))
  if (p.targets.includes('wshub')) {
    for (const schema of p.schemas) variants.push({ id: `wshub-${schema}`, target: 'wshub', bus: 'none', label: SCHEMA_LABELS[schema], routeSchema: schema })
  }
  const summaries = await interleave(variants, p.rounds, 'raw', async (variant) => {
    const target = await startTarget(variant.target, { nodeArgs: p.nodeArgs[variant.target], routeSchema: variant.routeSchema ?? 'none' }).catch((err) => {
      throw new Unavailable((err as Error).message)
    })
    const workers = await Workers.start(p.loadProcs)
    try {
      const shares = split(p.connections, p.loadProcs)
      const opened = await workers.each('connect', (i) => ({ protocol: target.protocol, urls: target.urls, count: shares[i], localAddresses: [], concurrency: 50 }))
      const failed = opened.reduce((s, o) => s + o.failed, 0)
      if (failed > 0) throw new Error(`${failed} connections failed: ${opened.find((o) => o.firstError)?.firstError}`)
      await workers.all('requests-start', { inFlight: p.inFlight })
      await sleep(p.warmupMs)
      await workers.all('mark')
      const cpu0 = target.cpu()
      const loadCpu0 = workers.cpu()
      const t0 = monoMs()
      await sleep(p.durationMs)
      const out = await workers.all<{ replies: number; errors: number; latency: HistogramData }>('requests-stop')
      const seconds = (monoMs() - t0) / 1000
      const cpu = target.cpu() - cpu0
      const loadCpu = workers.cpu() - loadCpu0
      const latency = new Histogram()
      for (const o of out) latency.merge(o.latency)
      const replies = out.reduce((s, o) => s + o.replies, 0)
      const errors = out.reduce((s, o) => s + o.errors, 0)
      return {
        metrics: {
          req_per_s: replies / seconds,
          p50_ms: latency.percentile(0.5),
          p99_ms: latency.percentile(0.99),
          server_cpu_s: cpu,
          load_cpu_s: loadCpu,
          req_per_cpu_s: replies / cpu,
        },
        notes: errors > 0 ? [`${errors} error replies`] : [],
      }
    } finally {
      await workers.stop()
      await target.stop()
    }
  }, log)
  return {
    id: 'A',
    title: 'Request/response',
    params: { ...p, nodeArgs: undefined },
    baseline: 'raw',
    metrics: [
      { key: 'req_per_s', label: 'req/s', digits: 0 },
      { key: 'p50_ms', label: 'p50 ms', digits: 2 },
      { key: 'p99_ms', label: 'p99 ms', digits: 2 },
      { key: 'server_cpu_s', label: 'server CPU s', digits: 2 },
      { key: 'load_cpu_s', label: 'load CPU s', digits: 2 },
      { key: 'req_per_cpu_s', label: 'req per server CPU-s', digits: 0 },
    ],
    variants: summaries,
    goals: checkGoals(
      [
        { variant: 'wshub', metric: 'req_per_cpu_s', op: '>=', ratio: 0.9, label: 'A requests per server CPU-second ≥ 0.90× raw' },
        { variant: 'wshub', metric: 'p99_ms', op: '<=', ratio: 1.15, label: 'A p99 ≤ 1.15× raw' },
      ],
      summaries,
    ),
    notes: schemaNotes(p, summaries, log),
    seconds: (Date.now() - started) / 1000,
  }
}
