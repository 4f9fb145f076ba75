/**
 * Scenarios B and C, room fan-out: `members` clients join one room, `publishers` of them
 * each send `rate` room messages a second, and every other member receives each one.
 * B runs on one node; C spreads the members (and publishers) over two nodes joined by a
 * bus, so half of every fan-out crosses Redis or NATS. Reports deliveries per second,
 * per server CPU-second (every node of the target together; the broker is reported
 * apart), and the end-to-end latency from publish to receipt.
 */
import { startBroker, type Broker, type BrokerKind } from '../support/brokers.js'
import { sleep } from '../support/proc.js'
import { checkGoals, interleave, Unavailable, type Goal, type ScenarioResult, type Variant } from '../support/scenario.js'
import { Histogram, monoMs, type HistogramData } from '../support/stats.js'
import { split, startTarget, Workers, type TargetKind } from '../support/targets.js'

export interface FanOutParams {
  targets: TargetKind[]
  rounds: number
  members: number
  publishers: number
  /** Messages per second per publisher. */
  rate: number
  payloadBytes: number
  warmupMs: number
  durationMs: number
  loadProcs: number
  nodeArgs: Partial<Record<TargetKind, string[]>>
}

const ROOM = 'bench-room'
const TAIL_MS = 3000

type Deliveries = { deliveries: number; latency: HistogramData }

/** Waits for the deliveries of the window's messages still on their way (at most TAIL_MS). */
async function drain(workers: Workers, expected: number): Promise<Deliveries[]> {
  const until = Date.now() + TAIL_MS
  let out = await workers.all<Deliveries>('deliveries')
  let last = -1
  for (;;) {
    const got = out.reduce((s, o) => s + o.deliveries, 0)
    if (got >= expected || got === last || Date.now() >= until) return out
    last = got
    await sleep(200)
    out = await workers.all<Deliveries>('deliveries')
  }
}

/** One run of `members` over `nodes` nodes (joined by a broker of `variant.bus` when not 'none'). Scenario F uses it too. */
export async function runOnce(variant: Variant, nodes: number, p: FanOutParams) {
  const broker: Broker | null = variant.bus === 'none' ? null : await startBroker(variant.bus as BrokerKind)
  try {
    const target = await startTarget(variant.target, { nodes, bus: broker?.kind ?? 'none', busUrl: broker?.busUrl ?? '', nodeArgs: p.nodeArgs[variant.target] }).catch((err) => {
      throw new Unavailable((err as Error).message)
    })
    const workers = await Workers.start(p.loadProcs)
    try {
      const shares = split(p.members, p.loadProcs)
      const pubShares = split(p.publishers, p.loadProcs)
      const opened = await workers.each('connect', (i) => ({ protocol: target.protocol, urls: target.urls, count: shares[i], localAddresses: [], concurrency: 100 }))
      const failed = opened.reduce((s, o) => s + o.failed, 0)
      if (failed > 0) throw new Error(`${failed} connections failed: ${opened.find((o) => o.firstError)?.firstError}`)
      await workers.all('join', { room: ROOM, concurrency: 50 })
      await sleep(300) // let every node's room subscription reach the bus
      // The garbage of opening and joining is collected before the window, on every
      // target alike: a major GC of it inside the window would be counted as fan-out.
      await target.stats(true)
      await workers.each('publish-start', (i) => ({ room: ROOM, publishers: pubShares[i], rate: p.rate, payloadBytes: p.payloadBytes }))
      await sleep(p.warmupMs)
      await workers.all('mark')
      const cpu0 = target.cpu()
      const loadCpu0 = workers.cpu()
      const brokerCpu0 = broker?.cpu() ?? 0
      const t0 = monoMs()
      await sleep(p.durationMs)
      const stopped = await workers.all<{ published: number }>('publish-stop')
      const seconds = (monoMs() - t0) / 1000
      const cpu = target.cpu() - cpu0
      const loadCpu = workers.cpu() - loadCpu0
      const brokerCpu = (broker?.cpu() ?? 0) - brokerCpu0
      const published = stopped.reduce((s, o) => s + o.published, 0)
      const out = await drain(workers, published * (p.members - 1))
      const latency = new Histogram()
      for (const o of out) latency.merge(o.latency)
      const deliveries = out.reduce((s, o) => s + o.deliveries, 0)
      const expected = published * (p.members - 1)
      const metrics: Record<string, number> = {
        deliveries_per_s: deliveries / seconds,
        p50_ms: latency.percentile(0.5),
        p99_ms: latency.percentile(0.99),
        server_cpu_s: cpu,
        load_cpu_s: loadCpu,
        deliveries_per_cpu_s: deliveries / cpu,
        delivered_share: expected === 0 ? Number.NaN : deliveries / expected,
      }
      if (broker) metrics.broker_cpu_s = brokerCpu
      return { metrics, notes: [] }
    } finally {
      await workers.stop()
      await target.stop()
    }
  } finally {
    await broker?.close()
  }
}

export function metricsOf(withBroker: boolean) {
  return [
    { key: 'deliveries_per_s', label: 'deliveries/s', digits: 0 },
    { key: 'p50_ms', label: 'p50 ms', digits: 2 },
    { key: 'p99_ms', label: 'p99 ms', digits: 2 },
    { key: 'server_cpu_s', label: 'server CPU s', digits: 2 },
    { key: 'load_cpu_s', label: 'load CPU s', digits: 2 },
    { key: 'deliveries_per_cpu_s', label: 'deliveries per server CPU-s', digits: 0 },
    { key: 'delivered_share', label: 'delivered/expected', digits: 3 },
    ...(withBroker ? [{ key: 'broker_cpu_s', label: 'broker CPU s', digits: 2 }] : []),
  ]
}

/** Scenario B: fan-out on one node. */
export async function fanOutOneNode(p: FanOutParams, log: (line: string) => void): Promise<ScenarioResult> {
  const started = Date.now()
  const variants: Variant[] = p.targets.map((t) => ({ id: t, target: t, bus: 'none', label: t }))
  const summaries = await interleave(variants, p.rounds, 'raw', (v) => runOnce(v, 1, p), log)
  const goals: Goal[] = [{ variant: 'wshub', metric: 'deliveries_per_cpu_s', op: '>=', ratio: 0.95, label: 'B deliveries per server CPU-second ≥ 0.95× raw' }]
  return {
    id: 'B',
    title: 'Room fan-out, one node',
    params: { ...p, nodeArgs: undefined },
    baseline: 'raw',
    metrics: metricsOf(false),
    variants: summaries,
    goals: checkGoals(goals, summaries),
    notes: [],
    seconds: (Date.now() - started) / 1000,
  }
}

/** Scenario C: fan-out across two nodes, over Redis (every target) and NATS (wshub). */
export async function fanOutTwoNodes(p: FanOutParams & { buses: Array<'redis' | 'nats'> }, log: (line: string) => void): Promise<ScenarioResult> {
  const started = Date.now()
  const variants: Variant[] = []
  for (const bus of p.buses) {
    for (const t of p.targets) {
      if (bus === 'nats' && t !== 'wshub') continue
      variants.push({ id: bus === 'redis' ? t : `${t}-${bus}`, target: t, bus, label: `${t} (${bus})` })
    }
  }
  const summaries = await interleave(variants, p.rounds, 'raw', (v) => runOnce(v, 2, p), log)
  const goals: Goal[] = [
    { variant: 'wshub', metric: 'deliveries_per_cpu_s', op: '>=', ratio: 0.9, label: 'C deliveries per server CPU-second over Redis ≥ 0.90× raw' },
  ]
  const notes = ['Ratios are to raw over Redis, NATS included. Server CPU is both nodes together; the broker\'s own CPU is its own column.']
  return {
    id: 'C',
    title: 'Room fan-out, two nodes over a bus',
    params: { ...p, nodeArgs: undefined },
    baseline: 'raw',
    metrics: metricsOf(true),
    variants: summaries,
    goals: checkGoals(goals, summaries),
    notes,
    seconds: (Date.now() - started) / 1000,
  }
}
