/**
 * What every target process shares: its options from the orchestrator, and the IPC
 * commands the orchestrator sends it (memory after a GC, event-loop delay, broadcast).
 * A target implements only how to count its connections and how to broadcast.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks'

/** What the orchestrator asks of a target, in BENCH_TARGET (JSON). */
export interface TargetOptions {
  /** Cross-node bus: none (one node), redis, redis-cluster (busUrl: host:port,...) or nats (busUrl: url,...). */
  bus: 'none' | 'redis' | 'redis-cluster' | 'nats'
  busUrl: string
  nodeId: string
  heartbeatMs: number
  /** wshub only: the schema its `ping` route gets; none keeps the built-in route. */
  routeSchema?: 'none' | 'zod' | 'json'
}

export interface TargetHooks {
  connections(): number
  broadcast(payload: unknown): void | Promise<void>
  close(): Promise<void>
}

export function targetOptions(): TargetOptions {
  return { bus: 'none', busUrl: '', nodeId: 'node-1', heartbeatMs: 30000, ...JSON.parse(process.env.BENCH_TARGET ?? '{}') }
}

function gc(): void {
  const run = (globalThis as { gc?: () => void }).gc
  if (run) {
    run()
    run()
  }
}

/** Answers the orchestrator's commands and reports `ready` with the port. */
export function serve(port: number, hooks: TargetHooks): void {
  const eld = monitorEventLoopDelay({ resolution: 10 })
  eld.enable()
  process.on('message', async (msg: any) => {
    let result: unknown
    try {
      switch (msg.cmd) {
        case 'stats': {
          if (msg.gc) gc()
          result = { memory: process.memoryUsage(), connections: hooks.connections() }
          break
        }
        case 'eld': {
          result = { maxMs: eld.max / 1e6, p99Ms: eld.percentile(99) / 1e6, meanMs: eld.mean / 1e6 }
          if (msg.reset) eld.reset()
          break
        }
        case 'broadcast':
          await hooks.broadcast(msg.payload)
          result = true
          break
        default:
          throw new Error(`unknown command ${msg.cmd}`)
      }
      process.send!({ type: 'reply', id: msg.id, result })
    } catch (err) {
      process.send!({ type: 'reply', id: msg.id, error: (err as Error).message })
    }
  })
  const stop = () => {
    void hooks.close().finally(() => process.exit(0))
    setTimeout(() => process.exit(0), 3000).unref()
  }
  process.once('SIGTERM', stop)
  process.once('disconnect', stop)
  process.send!({ type: 'ready', port })
}

/** Reports a start-up failure to the orchestrator and exits. */
export function failed(err: unknown): void {
  const message = (err as Error)?.message ?? String(err)
  if (process.send) process.send({ type: 'error', message }, () => process.exit(3))
  else {
    console.error(message)
    process.exit(3)
  }
}

/** The admin token of the wshub target's HTTP API (loopback only, bench only). */
export const BENCH_ADMIN_TOKEN = 'bench-admin-token'
