/**
 * `npm run faults`: each cluster fault of docs/reliability.md on three node processes
 * with traffic running (a Redis restart, a NATS restart, SIGKILL and SIGSTOP/SIGCONT of
 * a node on Redis), printing per fault the time until cross-node delivery resumed, the
 * requests refused, the messages acked without offset (kept in no history while the state
 * was out of reach), the messages lost live and after recovery with `since`, and the
 * duplicates (FaultReport in test/support/fault-scenarios.ts). Writes
 * bench/results/faults.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { startNats, startRedis, type Service } from '../../test/support/services.js'
import type { Backend } from '../../test/support/backends.js'
import type { ProcessCluster } from '../../test/support/cluster.js'
import { runFault, type FaultName, type FaultReport } from '../../test/support/fault-scenarios.js'

function backendOf(name: 'redis' | 'nats', service: Service): Backend {
  return { name, skip: false, service } as unknown as Backend
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
