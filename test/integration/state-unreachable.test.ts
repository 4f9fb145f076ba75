/**
 * The cluster state tells "out of reach" from every other failure
 * (`StateUnavailableError`), which is what lets a room message go on without its history
 * while Redis or NATS is away (lib/builtin-routes.ts). Real servers, stopped and frozen
 * by PID (test/support/services.ts).
 */
import { describe, it, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { StateUnavailableError, type ClusterState, type RoomRecord } from '../../lib/cluster/state.js'
import { testPrefix, useBackend } from '../support/backends.js'
import { skipUnless } from '../support/services.js'

const room = (id: string): RoomRecord => ({ id, name: id, max_clients: 0, presence_events: null, created_at: 1 })
const outOfReach = (err: unknown) => err instanceof StateUnavailableError

const variants: Array<['redis' | 'nats', boolean]> = [['redis', false], ['nats', false], ['nats', true]]

for (const [name, jetstream] of variants) {
  const what = name === 'nats' ? `nats (${jetstream ? 'jetstream stream' : 'kv documents'})` : name
  describe(`appendHistory on ${what}`, { skip: skipUnless(name) }, () => {
    const backend = useBackend(name)
    const open: ClusterState[] = []
    afterEach(async () => {
      backend.service?.resume()
      await backend.service?.start()
      await Promise.all(open.splice(0).map((s) => s.close()))
    })

    async function state(): Promise<ClusterState> {
      const s = backend.state(testPrefix(), { jetstream })
      open.push(s)
      await s.connect()
      await s.createRoom(room('r'))
      await s.appendHistory('r', 10, (o) => `m${o}`)
      return s
    }

    it('rejects with StateUnavailableError while the server is stopped', async () => {
      const s = await state()
      await backend.service!.stop()
      await assert.rejects(s.appendHistory('r', 10, (o) => `m${o}`), outOfReach)
    })

    if (name === 'redis') {
      it('rejects with StateUnavailableError when a frozen server does not answer within the command timeout', async () => {
        const s = await state()
        backend.service!.pause()
        await assert.rejects(s.appendHistory('r', 10, (o) => `m${o}`), outOfReach)
      })
    }
  })
}
