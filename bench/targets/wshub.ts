/**
 * The wshub target: `createApp()` with its defaults, so the full default chain (trace,
 * metrics, auth, rate-limit, dedup) runs once it is installed by default. The only
 * changes are the ones a benchmark needs: a free loopback port, per-connection rate
 * limits high enough never to trigger, the heartbeat interval of the scenario, and the
 * cluster bus of scenario C and E. `WSHUB_*` variables still apply on top.
 */
import { createApp, type ConfigInput } from '../../lib/index.js'
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
  const address = await app.listen()
  serve(address.port, {
    connections: () => app.server.size,
    broadcast: (payload) => app.broadcast('broadcast', { message: payload }),
    close: () => app.close(),
  })
}

main().catch(failed)
