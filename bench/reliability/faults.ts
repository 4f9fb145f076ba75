/**
 * `npm run faults`: each cluster fault of docs/reliability.md on three node processes
 * with traffic running (a Redis restart, a NATS restart, SIGKILL and SIGSTOP/SIGCONT of
 * a node on Redis), printing per fault the time until cross-node delivery resumed, the
 * requests refused, the messages acked without offset (kept in no history while the state
 * was out of reach), the messages lost live and after recovery with `since`, and the
 * duplicates (FaultReport in test/support/fault-scenarios.ts). Writes
 * bench/results/faults.json.
 *
 * `npm run faults -- --network [--backend redis|nats] [--fault <name>]`: the faults of the
 * network between one node and its broker instead (test/support/network-faults.ts):
 * partitions of 2 s and of 2 × the node TTL, 200 ms of added latency, a stalled
 * connection; on Redis and on NATS. Writes bench/results/network-faults.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { startNats, startRedis, type Service } from '../../test/support/services.js'
import type { Backend } from '../../test/support/backends.js'
import type { ProcessCluster } from '../../test/support/cluster.js'
import { runFault, type FaultName, type FaultReport } from '../../test/support/fault-scenarios.js'
import { networkFaults, runNetworkFault, type NetworkCluster, type NetworkFault, type NetworkReport } from '../../test/support/network-faults.js'

function backendOf(name: 'redis' | 'nats', service: Service): Backend {
  return { name, skip: false, service } as unknown as Backend
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
      let cluster: NetworkCluster | null = null
      try {
        const report = await runNetworkFault(backendOf(name, service), fault, (c) => (cluster = c))
        reports.push(report)
        console.log(JSON.stringify(report))
      } finally {
        await (cluster as NetworkCluster | null)?.close()
        await service.close()
      }
    }
  }
  mkdirSync('bench/results', { recursive: true })
  writeFileSync('bench/results/network-faults.json', `${JSON.stringify(reports, null, 2)}\n`)
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
  let cluster: ProcessCluster | null = null
  try {
    const report = await runFault(backendOf(name, service), fault, (c) => (cluster = c))
    reports.push(report)
    console.log(JSON.stringify(report))
  } finally {
    await (cluster as ProcessCluster | null)?.close()
    await service.close()
  }
}
mkdirSync('bench/results', { recursive: true })
writeFileSync('bench/results/faults.json', `${JSON.stringify(reports, null, 2)}\n`)
console.table(reports)
