/**
 * Scenario D, idle connections: open `connections` clients to one node as fast as
 * `concurrency` parallel handshakes allow, then measure what holding them costs. RSS and
 * heap are read inside the target after a full GC, before and after, so the figure is
 * the cost per connection, not the process's baseline.
 */
import { sleep } from '../support/proc.js'
import { checkGoals, interleave, Unavailable, type ScenarioResult, type Variant } from '../support/scenario.js'
import { split, startTarget, Workers, type TargetKind } from '../support/targets.js'

export interface IdleParams {
  targets: TargetKind[]
  rounds: number
  connections: number
  concurrency: number
  loadProcs: number
  nodeArgs: Partial<Record<TargetKind, string[]>>
}

/** 127.0.0.x source addresses, so no one source address runs out of ephemeral ports. */
export function sourceAddresses(worker: number, perWorker: number): string[] {
  return Array.from({ length: perWorker }, (_, k) => `127.0.0.${2 + worker * perWorker + k}`)
}

export async function idleConnections(p: IdleParams, log: (line: string) => void): Promise<ScenarioResult> {
  const started = Date.now()
  const variants: Variant[] = p.targets.map((t) => ({ id: t, target: t, bus: 'none', label: t }))
  const summaries = await interleave(variants, p.rounds, 'raw', async (variant) => {
    const target = await startTarget(variant.target, { nodeArgs: p.nodeArgs[variant.target] }).catch((err) => {
      throw new Unavailable((err as Error).message)
    })
    const workers = await Workers.start(p.loadProcs)
    try {
      await sleep(200)
      const [before] = await target.stats(true)
      const cpu0 = target.cpu()
      const loadCpu0 = workers.cpu()
      const shares = split(p.connections, p.loadProcs)
      const opened = await workers.each('connect', (i) => ({
        protocol: target.protocol,
        urls: target.urls,
        count: shares[i],
        // No source address: bind() before connect() costs the load side a kernel port
        // search per connection, which would be measured instead of the server.
        localAddresses: [],
        concurrency: Math.ceil(p.concurrency / p.loadProcs),
      }))
      const cpu = target.cpu() - cpu0
      const loadCpu = workers.cpu() - loadCpu0
      const count = opened.reduce((s, o) => s + o.opened, 0)
      const failed = opened.reduce((s, o) => s + o.failed, 0)
      const seconds = Math.max(...opened.map((o) => o.ms)) / 1000
      await sleep(500)
      const [after] = await target.stats(true)
      return {
        metrics: {
          opened_per_s: count / seconds,
          opened_per_cpu_s: count / cpu,
          rss_per_conn_bytes: (after!.memory.rss - before!.memory.rss) / count,
          heap_per_conn_bytes: (after!.memory.heapUsed - before!.memory.heapUsed) / count,
          held: after!.connections,
          server_cpu_s: cpu,
          load_cpu_s: loadCpu,
        },
        notes: failed > 0 ? [`${failed} failed: ${opened.find((o) => o.firstError)?.firstError}`] : [],
      }
    } finally {
      await workers.stop()
      await target.stop()
    }
  }, log)
  return {
    id: 'D',
    title: 'Idle connections',
    params: { ...p, nodeArgs: undefined },
    baseline: 'raw',
    metrics: [
      { key: 'opened_per_s', label: 'opened/s', digits: 0 },
      { key: 'opened_per_cpu_s', label: 'opened per server CPU-s', digits: 0 },
      { key: 'rss_per_conn_bytes', label: 'RSS B/conn', digits: 0 },
      { key: 'heap_per_conn_bytes', label: 'heap B/conn', digits: 0 },
      { key: 'held', label: 'held', digits: 0 },
      { key: 'server_cpu_s', label: 'server CPU s', digits: 2 },
      { key: 'load_cpu_s', label: 'load CPU s', digits: 2 },
    ],
    variants: summaries,
    goals: checkGoals(
      [
        { variant: 'wshub', metric: 'rss_per_conn_bytes', op: '<=', ratio: 1.5, label: 'D RSS per idle connection ≤ 1.5× raw' },
        { variant: 'wshub', metric: 'opened_per_s', op: '>=', ratio: 0.8, label: 'D connections opened/s ≥ 0.8× raw' },
      ],
      summaries,
    ),
    notes: [],
    seconds: (Date.now() - started) / 1000,
  }
}
