/**
 * Room history offsets after the cluster state lost everything (a Redis without
 * persistence restarted): the offsets given after the loss are above every offset given
 * before it, so a `since` a client kept from before the loss is never taken for a recent
 * one and answers `recovered: false` (PROTOCOL.md section 3), however many messages the
 * room got since. Real servers, restarted by PID (test/support/services.ts).
 */
import { describe, it, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { StateUnavailableError, type ClusterState, type RoomRecord } from '../../lib/cluster/state.js'
import { jetstream as jetStreamClient } from '@nats-io/jetstream'
import { Kvm } from '@nats-io/kv'
import { openRedis } from '../../lib/bus/redis-client.js'
import { openNats, type NatsConnection } from '../../lib/bus/nats-client.js'
import { testPrefix, useBackend } from '../support/backends.js'
import { skipUnless } from '../support/services.js'
import { eventually } from '../support/expect.js'

const room = (id: string): RoomRecord => ({ id, name: id, max_clients: 0, presence_events: null, created_at: 1 })

async function append(s: ClusterState, roomId: string, n: number, tag: string): Promise<number[]> {
  const offsets: number[] = []
  for (let i = 0; i < n; i++) offsets.push((await s.appendHistory(roomId, 100, (o) => `${tag}${o}`)).offset)
  return offsets
}

/** Makes the room again once the state answers (as a node writing its members back does). */
async function recreate(s: ClusterState, roomId: string): Promise<void> {
  await eventually(() => s.createRoom(room(roomId)).catch(() => false), 15_000, 'the state answering again after the restart')
}

for (const name of ['redis', 'nats'] as const) {
  describe(`history offsets after the ${name} state came back empty`, { skip: skipUnless(name) }, () => {
    const backend = useBackend(name)
    const open: ClusterState[] = []
    afterEach(async () => {
      await Promise.all(open.splice(0).map((s) => s.close()))
    })

    for (const jetstream of name === 'nats' ? [false, true] : [false]) {
      const suffix = name === 'nats' ? (jetstream ? ' (jetstream stream)' : ' (kv documents)') : ''
      it(`gives offsets above every earlier one after a restart, and answers recovered false to a since from before it, however many messages came since${suffix}`, async () => {
        const s = backend.state(testPrefix(), { jetstream })
        open.push(s)
        await s.connect()
        await s.createRoom(room('r'))
        const before = await append(s, 'r', 5, 'old')
        assert.deepEqual(before, [1, 2, 3, 4, 5], 'a fresh cluster counts from 1')

        await backend.service!.stop()
        backend.service!.wipe()
        await backend.service!.start()
        await recreate(s, 'r')
        // More messages than the old last offset, so reused offsets would pass every `since` the clients hold.
        const after = await append(s, 'r', 8, 'new')

        assert.ok(after[0]! > before[4]!, `offsets after the loss ${after} must be above those before it ${before}`)
        assert.deepEqual(after, after.map((_, i) => after[0]! + i), 'and go on by one')
        for (const since of [0, 3, 5]) assert.deepEqual(await s.history('r', since), { recovered: false, entries: [] }, `since ${since}`)
        // A since from after the loss recovers as usual.
        assert.deepEqual(await s.history('r', after[2]!), { recovered: true, entries: after.slice(3).map((o) => ({ offset: o, frame: `new${o}` })) })
      })
    }
  })
}

describe('the Redis offset epoch', { skip: skipUnless('redis') }, () => {
  const backend = useBackend('redis')
  const open: ClusterState[] = []
  async function state(prefix = testPrefix()): Promise<ClusterState> {
    const s = backend.state(prefix)
    open.push(s)
    await s.connect()
    return s
  }
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()))
  })

  /** Sends FLUSHALL and waits for its answer, synchronously: `makeFrame` runs between taking an offset and writing the frame, and cannot await. */
  function flushAllNow(): void {
    const port = backend.service!.port
    const script = `const s = require('net').connect(${port}, '127.0.0.1', () => s.write('FLUSHALL\\r\\n')); s.on('data', (d) => process.exit(String(d).startsWith('+OK') ? 0 : 1))`
    execFileSync(process.execPath, ['-e', script], { timeout: 5000 })
  }

  async function flushAll(): Promise<void> {
    const raw = openRedis(backend.service!.url, 'test-flush')
    await raw.connect()
    await raw.flushall()
    raw.disconnect()
  }

  it('keeps a node that connects after the restart from counting from 1 again, once a node that knew the offsets is back', async () => {
    const prefix = testPrefix()
    const a = await state(prefix)
    await a.createRoom(room('r'))
    const before = await append(a, 'r', 3, 'old')

    await backend.service!.stop()
    await backend.service!.start()
    const raw = openRedis(backend.service!.url, 'test-read')
    await raw.connect()
    try {
      // The node that knew sets a new epoch as soon as it reconnects, before any append.
      // The key holds `<base>:<stamp>` (lib/cluster/redis-scripts.ts).
      await eventually(async () => Number((await raw.get(`{${prefix}}:offset-epoch`))?.split(':')[0]) > 0, 15_000, 'the reconnected node setting a new offset epoch')
    } finally {
      raw.disconnect()
    }
    const b = await state(prefix)
    await b.createRoom(room('r'))
    const after = await append(b, 'r', 4, 'new')
    assert.ok(after[0]! > before[2]!, `offsets after the loss ${after} must be above those before it ${before}`)
    assert.deepEqual(await b.history('r', 3), { recovered: false, entries: [] })
  })

  it('takes a new epoch when the state was lost and a node that never knew the epoch wrote a fresh one first', async () => {
    const prefix = testPrefix()
    const a = await state(prefix)
    await a.createRoom(room('r'))
    const first = await append(a, 'r', 2, 'one')
    // Lost without a reconnect (FLUSHALL), and a node starting now finds no epoch: it writes
    // the fresh cluster's 0, which must not pass for the 0 the other node knew.
    await flushAll()
    const fresh = await state(prefix)
    await a.createRoom(room('r'))
    const second = await append(a, 'r', 2, 'two')
    assert.ok(second[0]! > first[1]!, `${second} above ${first}`)
    // The node that came fresh learns the new epoch from its next append.
    await fresh.createRoom(room('q'))
    const [q] = await append(fresh, 'q', 1, 'q')
    assert.ok(q! > first[1]!, `${q} above ${first}`)

    // Once more, now that the epoch is not 0: lost, and a fresh node first again.
    await flushAll()
    await state(prefix)
    await a.createRoom(room('r'))
    const third = await append(a, 'r', 2, 'three')
    assert.ok(third[0]! > second[1]!, `${third} above ${second}`)
  })

  it('refuses to keep a message whose offset was taken before the loss and written after it, as a state out of reach', async () => {
    const s = await state()
    await s.createRoom(room('r'))
    const before = await append(s, 'r', 3, 'old')
    await assert.rejects(s.appendHistory('r', 100, (o) => (flushAllNow(), `lost${o}`)), (err) => err instanceof StateUnavailableError && /lost/.test(err.message))
    await s.createRoom(room('r'))
    const after = await append(s, 'r', 2, 'new')
    assert.ok(after[0]! > before[2]! + 1, `${after} above ${before} and the offset taken before the loss`)
    // Had the frame been kept at offset 4, a client at 3 would be replayed it and told it recovered.
    assert.deepEqual(await s.history('r', before[2]!), { recovered: false, entries: [] })
  })
})

describe('the NATS offset epoch', { skip: skipUnless('nats') }, () => {
  const backend = useBackend('nats')
  const open: ClusterState[] = []
  const connections: NatsConnection[] = []
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()))
    await Promise.all(connections.splice(0).map((nc) => nc.close()))
  })

  /** Writes the epoch as another node would (lib/cluster/nats-offset-epoch.ts). */
  async function writeEpoch(prefix: string, epoch: { base: number; stamp: number }): Promise<void> {
    const nc = await openNats([backend.service!.url], 'test-epoch', 'test')
    connections.push(nc)
    const kv = await new Kvm(jetStreamClient(nc)).open(`${prefix}_state`)
    await kv.put('offset-epoch', JSON.stringify(epoch))
  }

  for (const jetstream of [false, true]) {
    const suffix = jetstream ? ' (jetstream stream)' : ' (kv documents)'

    it(`starts a new room's counter at an epoch another node set after this one connected${suffix}`, async () => {
      const prefix = testPrefix()
      const s = backend.state(prefix, { jetstream })
      open.push(s)
      await s.connect()
      const base = 1_700_000_000_000_000
      await writeEpoch(prefix, { base, stamp: base })
      await s.createRoom(room('r'))
      assert.deepEqual(await append(s, 'r', 2, 'm'), [base + 1, base + 2])
    })

    it(`takes a new epoch when it finds a fresh 0 it did not know: a node that never knew wrote it after a loss${suffix}`, async () => {
      const prefix = testPrefix()
      const s = backend.state(prefix, { jetstream })
      open.push(s)
      await s.connect()
      await writeEpoch(prefix, { base: 0, stamp: 1 })
      await s.createRoom(room('r'))
      const [first] = await append(s, 'r', 1, 'm')
      assert.ok(first! > 1_000_000_000_000_000, `${first} counts from the time of the loss, not from 1`)
    })
  }
})
