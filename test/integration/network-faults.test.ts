/**
 * Faults of the network between one node and its broker, with the processes up (a TCP
 * proxy per node, test/support/tcp-proxy.ts; the scenarios in
 * test/support/network-faults.ts), on Redis and on NATS, with room traffic both ways
 * across the faulty link and a witness on every node. Asserted: no node crashes, every
 * request is answered, nothing is delivered twice, local delivery loses nothing, the only
 * messages missing anywhere after a rejoin with `since` are ones sent without offset, and
 * every client is listed in room_members on every node again. The recovery times come
 * from `npm run faults -- --network`; no time is asserted here.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { useBackend } from '../support/backends.js'
import { skipUnless } from '../support/services.js'
import { networkFaults, runNetworkFault, type NetworkCluster, type NetworkFault, type NetworkReport } from '../support/network-faults.js'

for (const name of ['redis', 'nats'] as const) {
  describe(`room traffic on ${name} under network faults`, { skip: skipUnless(name) }, () => {
    const backend = useBackend(name)
    for (const [fault, what] of Object.entries(networkFaults) as Array<[NetworkFault, string]>) {
      describe(what, () => {
        let cluster: NetworkCluster | null = null
        let report: NetworkReport
        let seen: string
        // A hang (a node stuck on a dead link) fails the test rather than blocking the run.
        before(async () => {
          report = await runNetworkFault(backend, fault, (c) => (cluster = c))
          seen = JSON.stringify(report)
        }, { timeout: 180_000 })
        after(async () => {
          await (cluster as NetworkCluster | null)?.close()
        }, { timeout: 60_000 })

        it('crashes no node', () => assert.equal(report.crashed, 0, seen))

        it('answers every room message request (an ack, or an error)', () => {
          assert.ok(report.sent > 0, seen)
          assert.equal(report.unanswered, 0, seen)
        })

        it('delivers every acked message to the witness on the sender\'s node', () => {
          assert.ok(report.acked > 0, seen)
          assert.equal(report.lostLocal, 0, seen)
        })

        it('delivers nothing twice', () => assert.equal(report.duplicates, 0, seen))

        it('loses, after a rejoin with since, only messages sent without offset', () => {
          assert.equal(report.lostWithOffset, 0, seen)
          assert.equal(report.recovered, true, seen)
        })

        if (fault === 'latency') {
          it('loses nothing at all under latency', () => {
            assert.equal(report.lostWithoutOffset, 0, seen)
            assert.equal(report.refused, 0, seen)
          })
        }

        it('gives every message an offset above those of the messages sent before it', () => assert.equal(report.offsetsNotRising, 0, seen))

        it('lists every client in room_members on every node again, the cut node included', () => assert.equal(report.membersBack, true, seen))

        it('resumes delivery across the faulty link both ways', () => {
          assert.notEqual(report.resumedToCutMs, null, seen)
          assert.notEqual(report.resumedFromCutMs, null, seen)
        })
      })
    }
  })
}
