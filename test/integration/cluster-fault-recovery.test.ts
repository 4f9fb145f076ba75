/**
 * Cluster faults with room traffic running, on three real node processes: what the
 * receivers got live, what they recovered by joining again with `since`, and that
 * nothing came twice. The figures (recovery time, losses) come from `npm run faults`;
 * these tests assert the behaviour only. (test/integration/cluster-faults.test.ts covers
 * the same faults without traffic: members swept, the state written back.)
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { useBackend } from '../support/backends.js'
import { skipUnless } from '../support/services.js'
import type { ProcessCluster } from '../support/cluster.js'
import { runFault, type FaultName, type FaultReport } from '../support/fault-scenarios.js'

const cases: Array<['redis' | 'nats', FaultName, string]> = [
  ['redis', 'bus-restart', 'Redis restarted (empty: it keeps no data)'],
  ['nats', 'bus-restart', 'NATS restarted'],
  ['redis', 'sigkill', 'a node killed with SIGKILL, its client reconnecting to another node'],
  ['redis', 'sigstop', 'a node frozen with SIGSTOP past the node TTL, then resumed'],
]

/** Redis without persistence loses the history with the message acked just before it died; see docs/reliability.md. */
const OFFSETS_REUSED = 'a Redis restarted empty counts offsets from 1 again, so an old since can collide with new offsets'

for (const name of ['redis', 'nats'] as const) {
  describe(`room traffic on ${name} under faults`, { skip: skipUnless(name) }, () => {
    const backend = useBackend(name)
    for (const [, fault, what] of cases.filter(([b]) => b === name)) {
      describe(what, () => {
        let cluster: ProcessCluster | null = null
        let report: FaultReport
        let seen: string
        before(async () => {
          report = await runFault(backend, fault, (c) => (cluster = c))
          seen = JSON.stringify(report)
        })
        after(async () => {
          await (cluster as ProcessCluster | null)?.close()
          await backend.service?.start()
        })

        it('crashes no node', () => assert.equal(report.crashed, 0, seen))

        it('resumes cross-node delivery by itself', () => {
          assert.ok(report.acked > 0, seen)
          assert.notEqual(report.resumedMs, null, seen)
        })

        it('lists every receiver in room_members again', () => assert.equal(report.membersBack, true, seen))

        it('delivers nothing twice', () => assert.equal(report.duplicates, 0, seen))

        if (name === 'redis' && fault === 'bus-restart') {
          // A Redis restarted empty loses the history with everything else: what it can
          // promise is to say so (recovered false), never to claim a recovery it did not make.
          // todo: offsets restart at 1 with the empty Redis; when the room gets more messages
          // after the restart than the client's `since`, the old offset is answered as if it
          // were recent (docs/reliability.md). Passes in most runs; not yet guaranteed.
          it('never answers recovered true to a client whose missed messages were lost with the history', { todo: OFFSETS_REUSED }, () => {
            assert.ok(report.recovered === false || report.lostAfterRecovery === 0, seen)
          })
        } else {
          it('gives a client that joins again with since every acked message it missed', () => {
            assert.equal(report.recovered, true, seen)
            assert.equal(report.lostAfterRecovery, 0, seen)
          })
        }
      })
    }
  })
}
