/**
 * Failovers of the multi-process engines with room traffic running, on three real node
 * processes: the Redis master the room lives on killed (a Redis Cluster of 3 masters and
 * 3 replicas; Redis with 1 master, 1 replica and 3 Sentinels), and the NATS server a node
 * is connected to killed (a 3-server NATS cluster). Each engine is started once for this
 * file. The recovery times are measured by `npm run faults` (docs/reliability.md); these
 * tests assert the behaviour only: nothing crashes, delivery resumes by itself, nothing
 * comes twice, and no acked message with an offset is lost.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { useBackend, type EngineName } from '../support/backends.js'
import { skipUnless } from '../support/services.js'
import type { ProcessCluster } from '../support/cluster.js'
import { runFault, type FaultName, type FaultReport } from '../support/fault-scenarios.js'

const cases: Array<[EngineName, FaultName, string]> = [
  ['redis-cluster', 'master-kill', 'the master of the shard that holds the room and the state killed (SIGKILL)'],
  ['redis-sentinel', 'master-kill', 'the master the Sentinels name killed (SIGKILL)'],
  ['nats-cluster', 'server-kill', 'the NATS server a node is connected to killed (SIGKILL)'],
]

for (const [name, fault, what] of cases) {
  describe(`room traffic on ${name}: ${what}`, { skip: skipUnless(name === 'nats-cluster' ? 'nats' : 'redis') }, () => {
    const backend = useBackend(name)
    let cluster: ProcessCluster | null = null
    let report: FaultReport
    let seen: string
    before(async () => {
      report = await runFault(backend, fault, (c) => (cluster = c))
      seen = JSON.stringify(report)
    })
    after(async () => {
      await (cluster as ProcessCluster | null)?.close()
    })

    it('crashes no node', () => assert.equal(report.crashed, 0, seen))

    it('delivers every acked message to the member beside the sender', () => {
      assert.ok(report.acked > 0, seen)
      assert.equal(report.lostLocal, 0, seen)
    })

    it('resumes cross-node delivery by itself', () => assert.notEqual(report.resumedMs, null, seen))

    it('lists every receiver in room_members again', () => assert.equal(report.membersBack, true, seen))

    it('delivers nothing twice', () => assert.equal(report.duplicates, 0, seen))

    it('gives every message an offset above those of the messages sent before it, across the failover', () => assert.equal(report.offsetsNotRising, 0, seen))

    it('gives a client that joins again with since every acked message with an offset it missed', () => {
      assert.equal(report.recovered, true, seen)
      assert.equal(report.lostAfterRecovery, 0, seen)
    })
  })
}
