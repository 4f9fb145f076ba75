/**
 * The wshub target: `createApp()` with its defaults, so the full default chain (trace,
 * metrics, auth, rate-limit, dedup) runs once it is installed by default. The only
 * changes are the ones a benchmark needs: a free loopback port, per-connection rate
 * limits high enough never to trigger, the heartbeat interval of the scenario, and the
 * cluster bus of scenario C and E. `WSHUB_*` variables still apply on top.
 */
import { z } from 'zod'
import { createApp, type Application, type ConfigInput } from '../../lib/index.js'
import { BENCH_ADMIN_TOKEN, failed, serve, targetOptions } from './host.js'

const options = targetOptions()
const NEVER = 1_000_000_000

async function main(): Promise<void> {
  const config: ConfigInput = {
    rate_limit: { per_connection: { rate: NEVER, burst: NEVER } },
    heartbeat: { interval_ms: options.heartbeatMs, timeout_ms: Math.min(10000, options.heartbeatMs) },
    cluster: { node_id: options.nodeId },
    // Scenario E sends its broadcast as POST /api/broadcast.
    http: { host: '127.0.0.1', port: 0, admin_token: BENCH_ADMIN_TOKEN },
  }
  if (options.bus === 'redis') config.cluster = { ...config.cluster, bus: 'redis', redis: { url: options.busUrl } }
  if (options.bus === 'redis-cluster') config.cluster = { ...config.cluster, bus: 'redis', redis: { mode: 'cluster', nodes: options.busUrl.split(',') } }
  if (options.bus === 'nats') config.cluster = { ...config.cluster, bus: 'nats', nats: { servers: options.busUrl.split(',') } }
  const app = createApp(config)
  schemaPing(app, options.routeSchema ?? 'none')
  const address = await app.listen()
  serve(address.port, {
    connections: () => app.server.size,
    broadcast: (payload) => app.broadcast('broadcast', { message: payload }),
    close: () => app.close(),
  })
}

/**
 * Scenario A's cost of validation: `ping` registered again with a schema of its data
 * (`{ts: number}`, what the load sends) and the built-in handler's work, so the only
 * difference from the built-in route is the check.
 */
function schemaPing(app: Application, kind: 'none' | 'zod' | 'json'): void {
  const pong = (ctx: { data: { ts?: number }; reply(type: string, data: unknown): boolean }) => ctx.reply('pong', { ts: ctx.data.ts ?? null, server_ts: Date.now() })
  if (kind === 'zod') app.route('ping', { schema: z.object({ ts: z.number() }) }, pong)
  if (kind === 'json') app.route('ping', { schema: { type: 'object', required: ['ts'], properties: { ts: { type: 'number' } } } }, pong)
}

main().catch(failed)
