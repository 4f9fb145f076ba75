/**
 * Scenario E, scale: as many idle connections as one process may hold here (the hard
 * open-file limit, less a margin for the process's own files), on one node and then on
 * two, with the clients spread over several load processes and 127.0.0.x source
 * addresses and the server's heartbeats running. RSS is read at each step (5k, 10k, the
 * maximum) to see whether it grows linearly; then one broadcast goes to everyone and we
 * time until the last client has it. Nodes are joined by the broker of each of `buses`
 * (one Redis, one NATS, or a Redis Cluster) where the target has a bus, and are otherwise
 * independent nodes, each told to broadcast. wshub gets its broadcast as one
 * `POST /api/broadcast` to node 1.
 *
 * With `--e-nodes 6 --e-max 16667` this is the 100,000-connection run: six nodes under
 * the open-file limit of 20,000 per process, the clients spread over load processes
 * that each stay under it too.
 */
import { startBroker, type Broker, type BrokerKind } from '../support/brokers.js'
import { BENCH_ADMIN_TOKEN } from '../targets/host.js'
import { sleep } from '../support/proc.js'
import { linearFit, monoMs } from '../support/stats.js'
import { split, startTarget, Workers, type RunningTarget, type TargetKind } from '../support/targets.js'
import { sourceAddresses } from './idle.js'

export interface ScaleParams {
  targets: TargetKind[]
  nodes: number[]
  /** Brokers that join the nodes of a multi-node run, one run each. */
  buses: BrokerKind[]
  /** Connections per node at the last step. */
  max: number
  steps: number[]
  loadProcs: number
  /** Most connections one load process opens (its own open-file limit). */
  perProcMax: number
  /** 127.0.0.x source addresses per load process. */
  sourceAddresses: number
  concurrency: number
  heartbeatMs: number
  holdMs: number
  broadcastTimeoutMs: number
}

export interface ScaleStep {
  perNode: number
  rssBytes: number[]
  heapUsedBytes: number[]
  /** V8's committed heap (used or not) and memory outside it (Buffers, ws and TLS state): where RSS beyond the used heap is. */
  heapTotalBytes: number[]
  externalBytes: number[]
  rssPerConn: number
  heapPerConn: number
  openSeconds: number
  failed: number
}

export interface ScaleRun {
  target: TargetKind
  nodes: number
  bus: string
  steps: ScaleStep[]
  held: number
  expected: number
  serverHeld: number[]
  heartbeatLoopMaxMs: number
  broadcastReceived: number
  broadcastMs: number | null
  broadcastLoopMaxMs: number
  fit: { slope: number; intercept: number; r2: number }
  /** RSS added per connection between consecutive steps (mean over nodes). */
  marginalPerConn: number[]
  linear: boolean
  rssAt100kBytes: number
  error: string | null
}

const GiB = 1024 ** 3

async function memory(target: RunningTarget) {
  const stats = await target.stats(true)
  return {
    rss: stats.map((s) => s.memory.rss),
    heap: stats.map((s) => s.memory.heapUsed),
    heapTotal: stats.map((s) => s.memory.heapTotal),
    external: stats.map((s) => s.memory.external),
    connections: stats.map((s) => s.connections),
  }
}

async function runOnce(kind: TargetKind, nodes: number, bus: BrokerKind, p: ScaleParams, log: (line: string) => void): Promise<ScaleRun> {
  const run: ScaleRun = {
    target: kind, nodes, bus: nodes === 1 ? 'none' : bus, steps: [], held: 0, expected: 0, serverHeld: [], heartbeatLoopMaxMs: Number.NaN,
    broadcastReceived: 0, broadcastMs: null, broadcastLoopMaxMs: Number.NaN, fit: { slope: Number.NaN, intercept: Number.NaN, r2: Number.NaN },
    marginalPerConn: [], linear: false, rssAt100kBytes: Number.NaN, error: null,
  }
  const levels = [...p.steps.filter((s) => s < p.max), p.max]
  if (nodes * p.max > p.loadProcs * p.perProcMax) {
    run.error = `${nodes * p.max} connections need more than ${p.loadProcs} load processes of ${p.perProcMax}; raise --e-load-procs`
    return run
  }
  let broker: Broker | null = null
  let target: RunningTarget | null = null
  let workers: Workers | null = null
  try {
    if (nodes > 1) {
      broker = await startBroker(bus)
      target = await startTarget(kind, { nodes, bus, busUrl: broker.busUrl, heartbeatMs: p.heartbeatMs }).catch(async (err) => {
        log(`  ${kind} × ${nodes}: ${bus} bus not available for this target (${(err as Error).message}); independent nodes instead`)
        run.bus = `none (independent nodes; no ${bus} bus for ${kind})`
        return startTarget(kind, { nodes, heartbeatMs: p.heartbeatMs })
      })
    } else target = await startTarget(kind, { heartbeatMs: p.heartbeatMs })
    workers = await Workers.start(p.loadProcs)
    await sleep(300)
    const base = await memory(target)
    let total = 0
    for (const perNode of levels) {
      const add = perNode * nodes - total
      const shares = split(add, p.loadProcs)
      const opened = await workers.each('connect', (i) => ({
        protocol: target!.protocol,
        urls: target!.urls,
        count: shares[i],
        localAddresses: sourceAddresses(i, p.sourceAddresses),
        concurrency: Math.ceil(p.concurrency / p.loadProcs),
      }))
      total += add
      const failed = opened.reduce((s, o) => s + o.failed, 0)
      await sleep(500)
      const mem = await memory(target)
      const conns = mem.connections
      const rssPerConn = mem.rss.reduce((s, r, i) => s + (r - base.rss[i]!) / Math.max(1, conns[i]!), 0) / nodes
      const heapPerConn = mem.heap.reduce((s, h, i) => s + (h - base.heap[i]!) / Math.max(1, conns[i]!), 0) / nodes
      const step = { perNode, rssBytes: mem.rss, heapUsedBytes: mem.heap, heapTotalBytes: mem.heapTotal, externalBytes: mem.external, rssPerConn, heapPerConn, openSeconds: Math.max(...opened.map((o) => o.ms)) / 1000, failed }
      run.steps.push(step)
      log(`  ${kind} × ${nodes}: ${conns.join(' + ')} held, RSS ${mem.rss.map((r) => (r / 2 ** 20).toFixed(0)).join(' + ')} MiB, ${Math.round(rssPerConn)} B/conn RSS, ${Math.round(heapPerConn)} B/conn heap, heap committed ${mem.heapTotal.map((r) => (r / 2 ** 20).toFixed(0)).join(' + ')} MiB, external ${mem.external.map((r) => (r / 2 ** 20).toFixed(0)).join(' + ')} MiB${failed ? `, ${failed} failed: ${opened.find((o) => o.firstError)?.firstError}` : ''}`)
    }
    run.expected = total
    // Hold with heartbeats running: at least two ping rounds.
    await Promise.all(target.nodes.map((n) => n.call('eld', { reset: true })))
    await sleep(p.holdMs)
    run.heartbeatLoopMaxMs = Math.max(...(await Promise.all(target.nodes.map((n) => n.call('eld', { reset: true })))).map((e) => e.maxMs))
    const status = await workers.all<{ open: number }>('status')
    run.held = status.reduce((s, st) => s + st.open, 0)
    run.serverHeld = (await target.stats(false)).map((s) => s.connections)
    // One broadcast to everyone: through the bus from node 1, or to each independent node.
    await workers.all('arm-broadcast')
    const t0 = monoMs()
    if (run.bus === 'none' || run.bus.startsWith('none')) await Promise.all(target.nodes.map((n) => n.call('broadcast', { payload: { bench: 'E' } })))
    else if (kind === 'wshub') {
      const http = target.urls[0]!.replace(/^ws:/, 'http:').replace(/\/ws$/, '/api/broadcast')
      const res = await fetch(http, { method: 'POST', headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ message: { bench: 'E' } }) })
      if (!res.ok) throw new Error(`POST /api/broadcast answered ${res.status}: ${await res.text()}`)
    } else await target.nodes[0]!.call('broadcast', { payload: { bench: 'E' } })
    const until = Date.now() + p.broadcastTimeoutMs
    let received = 0
    let lastAt = 0
    while (Date.now() < until) {
      const got = await workers.all<{ received: number; lastAt: number }>('broadcast-status')
      received = got.reduce((s, g) => s + g.received, 0)
      lastAt = Math.max(...got.map((g) => g.lastAt))
      if (received >= run.held) break
      await sleep(50)
    }
    run.broadcastReceived = received
    run.broadcastMs = received > 0 ? lastAt - t0 : null
    run.broadcastLoopMaxMs = Math.max(...(await Promise.all(target.nodes.map((n) => n.call('eld', { reset: true })))).map((e) => e.maxMs))
    const points = run.steps.map((s) => [s.perNode, s.rssBytes.reduce((a, b) => a + b, 0) / nodes] as [number, number])
    run.fit = linearFit(points)
    // Linear: each step adds about the same RSS per connection as the fit says (the
    // per-connection average at a step also carries the process's fixed growth, so it
    // falls with N and is not the test).
    run.marginalPerConn = points.slice(1).map(([n, rss], i) => (rss - points[i]![1]) / (n - points[i]![0]))
    run.linear = run.fit.r2 >= 0.98 && run.marginalPerConn.every((m) => Math.abs(m - run.fit.slope) <= 0.25 * run.fit.slope)
    run.rssAt100kBytes = run.fit.intercept + run.fit.slope * 100_000
    log(`  ${kind} × ${nodes}: held ${run.held}/${run.expected} after ${p.holdMs} ms of heartbeats (event loop max ${run.heartbeatLoopMaxMs.toFixed(1)} ms); broadcast reached ${received} in ${run.broadcastMs?.toFixed(0) ?? '—'} ms; ${Math.round(run.fit.slope)} B/conn marginal, 100k ≈ ${(run.rssAt100kBytes / GiB).toFixed(2)} GiB`)
  } catch (err) {
    run.error = (err as Error).message
    log(`  ${kind} × ${nodes}: FAILED ${run.error}`)
  } finally {
    await workers?.stop()
    await target?.stop()
    await broker?.close()
  }
  return run
}

export async function scale(p: ScaleParams, log: (line: string) => void): Promise<{ seconds: number; params: ScaleParams; runs: ScaleRun[] }> {
  const started = Date.now()
  const runs: ScaleRun[] = []
  for (const nodes of p.nodes) {
    for (const bus of nodes === 1 ? p.buses.slice(0, 1) : p.buses) for (const kind of p.targets) runs.push(await runOnce(kind, nodes, bus, p, log))
  }
  return { seconds: (Date.now() - started) / 1000, params: p, runs }
}
