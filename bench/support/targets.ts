/**
 * Starting a target (raw, socketio, wshub) as one or two node processes, and the load
 * workers that drive it. Everything here is stopped by PID when a run ends.
 */
import type { Protocol } from '../load/clients.js'
import { cpuSeconds, Peer, startScript } from './proc.js'
import type { TargetOptions } from '../targets/host.js'

export type TargetKind = 'raw' | 'socketio' | 'wshub'
export const TARGET_KINDS: readonly TargetKind[] = ['raw', 'socketio', 'wshub']

export interface TargetStart {
  nodes?: number
  bus?: TargetOptions['bus']
  busUrl?: string
  heartbeatMs?: number
  /** Extra node flags for the target (e.g. --cpu-prof). */
  nodeArgs?: string[]
  /** wshub only: the schema its `ping` route gets. */
  routeSchema?: TargetOptions['routeSchema']
}

export interface RunningTarget {
  kind: TargetKind
  protocol: Protocol
  nodes: Peer[]
  urls: string[]
  /** CPU seconds used so far by every node of the target together. */
  cpu(): number
  /** Process memory of each node, after a full GC when `gc`. */
  stats(gc: boolean): Promise<Array<{ memory: NodeJS.MemoryUsage; connections: number }>>
  stop(): Promise<void>
}

/** Starts a target; rejects with the target's own message when it cannot start (a bus not in this build). */
export async function startTarget(kind: TargetKind, options: TargetStart = {}): Promise<RunningTarget> {
  const count = options.nodes ?? 1
  const nodes: Peer[] = []
  const stopAll = () => Promise.all(nodes.map((n) => n.stop())).then(() => {})
  try {
    for (let i = 0; i < count; i++) {
      const env: TargetOptions = {
        bus: options.bus ?? 'none',
        busUrl: options.busUrl ?? '',
        nodeId: `bench-${i + 1}`,
        heartbeatMs: options.heartbeatMs ?? 30000,
        routeSchema: options.routeSchema ?? 'none',
      }
      nodes.push(startScript(`${kind} node ${i + 1}`, `targets/${kind}.js`, { BENCH_TARGET: JSON.stringify(env) }, options.nodeArgs ?? []))
    }
    const ready = await Promise.all(nodes.map((n) => n.ready))
    const urls = ready.map(({ port }) => (kind === 'socketio' ? `http://127.0.0.1:${port}` : `ws://127.0.0.1:${port}/ws`))
    return {
      kind,
      protocol: kind === 'socketio' ? 'socketio' : 'envelope',
      nodes,
      urls,
      cpu: () => nodes.reduce((sum, n) => sum + cpuSeconds(n.pid), 0),
      stats: (gc) => Promise.all(nodes.map((n) => n.call('stats', { gc }))),
      stop: stopAll,
    }
  } catch (err) {
    await stopAll()
    throw err
  }
}

/** Load-generator processes. */
export class Workers {
  private constructor(readonly peers: Peer[]) {}

  static async start(count: number): Promise<Workers> {
    const peers = Array.from({ length: count }, (_, i) => startScript(`load ${i + 1}`, 'load/worker.js'))
    const workers = new Workers(peers)
    try {
      await Promise.all(peers.map((p) => p.ready))
    } catch (err) {
      await workers.stop()
      throw err
    }
    return workers
  }

  /** CPU seconds used so far by every load process together. */
  cpu(): number {
    return this.peers.reduce((sum, p) => sum + cpuSeconds(p.pid), 0)
  }

  /** Sends the same command to every worker. */
  all<T = any>(cmd: string, args: Record<string, unknown> = {}): Promise<T[]> {
    return Promise.all(this.peers.map((p) => p.call<T>(cmd, args)))
  }

  /** Sends each worker its own arguments. */
  each<T = any>(cmd: string, args: (index: number) => Record<string, unknown>): Promise<T[]> {
    return Promise.all(this.peers.map((p, i) => p.call<T>(cmd, args(i))))
  }

  async stop(): Promise<void> {
    await Promise.all(this.peers.map((p) => p.stop()))
  }
}

/** Splits `total` into `parts` shares that differ by at most one. */
export function split(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0))
}
