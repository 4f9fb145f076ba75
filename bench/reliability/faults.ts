/**
 * `npm run faults`: each cluster fault of docs/reliability.md on three node processes
 * with traffic running (a Redis restart, a NATS restart, SIGKILL and SIGSTOP/SIGCONT of
 * a node on Redis), printing per fault the time until cross-node delivery resumed, the
 * requests refused, the messages acked without offset (kept in no history while the state
 * was out of reach), the messages lost live and after recovery with `since`, and the
 * duplicates (FaultReport in test/support/fault-scenarios.ts). Writes
 * bench/results/faults.json.
 *
 * `npm run faults -- --engines [runs] [engine...]` runs the failovers of the multi-process engines
 * instead, `runs` times each (default 3): the Redis Cluster master of the room's shard
 * killed, the Sentinel master killed, the NATS server a node is on killed. Writes
 * bench/results/faults-engines.json.
 * `npm run faults -- --network [--backend redis|nats] [--fault <name>]`: the faults of the
 * network between one node and its broker instead (test/support/network-faults.ts):
 * partitions of 2 s and of 2 × the node TTL, 200 ms of added latency, a stalled
 * connection; on Redis and on NATS. Writes bench/results/network-faults.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { startNats, startRedis, type Service } from '../../test/support/services.js'
import { RedisCluster } from '../../test/support/redis-cluster.js'
import { RedisSentinels } from '../../test/support/redis-sentinel.js'
import { NatsCluster } from '../../test/support/nats-cluster.js'
import { backendFor, type Backend } from '../../test/support/backends.js'
import type { ProcessCluster } from '../../test/support/cluster.js'
import { runFault, type FaultName, type FaultReport } from '../../test/support/fault-scenarios.js'
import { networkFaults, runNetworkFault, type NetworkCluster, type NetworkFault, type NetworkReport } from '../../test/support/network-faults.js'

/** The test support's backend on a server this script started. */
function backendOf(name: 'redis' | 'nats', service: Service): Backend {
  return Object.assign(backendFor(name, null), { service })
}

/** Runs one scenario, closing the cluster it started whatever happens; prints its report and keeps it in `reports`. */
async function runOnce<C extends { close(): Promise<void> }, R>(reports: R[], run: (started: (cluster: C) => void) => Promise<R>): Promise<void> {
  let cluster: C | null = null
  try {
    const report = await run((c) => (cluster = c))
    reports.push(report)
    console.log(JSON.stringify(report))
  } finally {
    await (cluster as C | null)?.close()
  }
}

function writeReports(file: string, reports: unknown[]): void {
  mkdirSync('bench/results', { recursive: true })
  writeFileSync(`bench/results/${file}`, `${JSON.stringify(reports, null, 2)}\n`)
}

if (process.argv.includes('--engines')) {
  const times = Number(process.argv[process.argv.indexOf('--engines') + 1]) || 3
  const engines = [
    ['redis-cluster', 'master-kill', () => RedisCluster.start()],
    ['redis-sentinel', 'master-kill', () => RedisSentinels.start()],
    ['nats-cluster', 'server-kill', () => NatsCluster.start()],
  ] as const
  const reports: FaultReport[] = []
  const only = engines.filter(([name]) => process.argv.includes(name))
  for (const [name, fault, start] of only.length > 0 ? only : engines) {
    const engine = await start()
    try {
      for (let i = 0; i < times; i++) {
        await runOnce<ProcessCluster, FaultReport>(reports, (started) => runFault(backendFor(name, engine), fault, started))
        if (engine instanceof NatsCluster) await engine.waitJetStream()
        else await engine.waitHealthy()
      }
    } finally {
      await engine.close()
    }
  }
  writeReports(`faults-engines${only.length === 1 ? `-${only[0]![0]}` : ''}.json`, reports)
  console.table(reports.map(({ backend, fault, sent, acked, refused, unrecorded, resumedMs, lostLive, lostAfterRecovery, duplicates, crashed }) => ({ backend, fault, sent, acked, refused, unrecorded, resumedMs: Math.round(resumedMs ?? -1), lostLive, lostAfterRecovery, duplicates, crashed })))
  process.exit(0)
}

const flag = (name: string) => {
  const at = process.argv.indexOf(`--${name}`)
  return at === -1 ? null : process.argv[at + 1] ?? null
}

if (process.argv.includes('--network')) {
  const backends = (flag('backend') ?? 'redis,nats').split(',') as Array<'redis' | 'nats'>
  const faults = (flag('fault') ?? Object.keys(networkFaults).join(',')).split(',') as NetworkFault[]
  const reports: NetworkReport[] = []
  for (const name of backends) {
    for (const fault of faults) {
      const service = name === 'redis' ? await startRedis() : await startNats()
      try {
        await runOnce<NetworkCluster, NetworkReport>(reports, (started) => runNetworkFault(backendOf(name, service), fault, started))
      } finally {
        await service.close()
      }
    }
  }
  writeReports('network-faults.json', reports)
  console.table(reports)
  process.exit(0)
}

const runs: Array<[('redis' | 'nats'), FaultName]> = [
  ['redis', 'bus-restart'],
  ['nats', 'bus-restart'],
  ['redis', 'sigkill'],
  ['redis', 'sigstop'],
]
const reports: FaultReport[] = []
for (const [name, fault] of runs) {
  const service = name === 'redis' ? await startRedis() : await startNats()
  try {
    await runOnce<ProcessCluster, FaultReport>(reports, (started) => runFault(backendOf(name, service), fault, started))
  } finally {
    await service.close()
  }
}
writeReports('faults.json', reports)
console.table(reports)
