/**
 * Cluster faults with room traffic running, on three real node processes: what the
 * receivers got live, what they recovered by joining again with `since`, and that
 * nothing came twice. A member beside the sender sees which messages went out without
 * offset (kept in no history). The figures (recovery time, losses) come from `npm run faults`;
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

        it('delivers every acked message to the member beside the sender, whatever the fault', () => {
          assert.ok(report.acked > 0, seen)
          assert.equal(report.lostLocal, 0, seen)
        })

        if (fault === 'bus-restart') {
          // PROTOCOL.md section 6: local delivery goes on, history or not; a message the
          // history could not keep (the state out of reach, or back empty and not yet
          // written back) goes out without offset.
          it(`acks every room message while ${name} is away and while the nodes write themselves back`, () => {
            assert.equal(report.refused, 0, seen)
          })
        }

        it('resumes cross-node delivery by itself', () => {
          assert.ok(report.acked > 0, seen)
          assert.notEqual(report.resumedMs, null, seen)
        })

        it('lists every receiver in room_members again', () => assert.equal(report.membersBack, true, seen))

        it('delivers nothing twice', () => assert.equal(report.duplicates, 0, seen))

        it('gives every message an offset above those of the messages sent before it, across the fault', () => assert.equal(report.offsetsNotRising, 0, seen))

        if (name === 'redis' && fault === 'bus-restart') {
          // A Redis restarted empty loses the history with everything else (the test Redis
          // keeps no data): what it can promise is to say so (recovered false), never to
          // claim a recovery it did not make. The offsets after the restart are above every
          // earlier one, so the receiver's `since` from before it is not taken for a recent one.
          it('never answers recovered true to a client whose missed messages were lost with the history', () => {
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
