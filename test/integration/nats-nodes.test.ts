/**
 * Node heartbeats against the sweep of dead nodes in the NATS state, on a real
 * nats-server, with the interleavings that lost members forced: the test holds one side
 * between two of its KV calls (a proxy of the real bucket) while the other side runs.
 * A node whose members a sweeper removed must find out at a beat, and write them back.
 */
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { jetstream } from '@nats-io/jetstream'
import { Kvm, type KV } from '@nats-io/kv'
import { openNats, type NatsConnection } from '../../lib/bus/nats-client.js'
import { NatsState } from '../../lib/cluster/nats.js'
import { NatsNodes } from '../../lib/cluster/nats-nodes.js'
import { forget } from '../../lib/cluster/nats-kv.js'
import type { MemberRecord, NodeRecord } from '../../lib/cluster/state.js'
import { testPrefix, useBackend } from '../support/backends.js'
import { skipUnless } from '../support/services.js'

const TTL_MS = 300
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const nodeB: NodeRecord = { node_id: 'b', started_at: 1, seen_at: 1, clients: 1 }
const memberB: MemberRecord = { client_id: 'b.c1', user_id: null, node_id: 'b' }
const room = { id: 'lobby', name: 'lobby', max_clients: 0, presence_events: null, created_at: 1 }

/** The bucket, with `hook` run once after the first call of `method` whose arguments match, before that call's answer is handed back. */
function held(kv: KV, method: 'get' | 'update', match: (args: unknown[]) => boolean, hook: () => Promise<void>): KV {
  let done = false
  return new Proxy(kv, {
    get(target, key) {
      const value = Reflect.get(target, key, target)
      if (typeof value !== 'function') return value
      if (key !== method) return value.bind(target)
      return async (...args: unknown[]) => {
        const answer = await value.apply(target, args)
        if (!done && match(args)) {
          done = true
          await hook()
        }
        return answer
      }
    },
  })
}

describe('NATS node heartbeats against a sweeper', { skip: skipUnless('nats') }, () => {
  const backend = useBackend('nats')
  const closing: Array<() => Promise<unknown>> = []
  after(async () => {
    for (const close of closing) await close()
  })

  /** Node b's own state handle, with b beating, a client, and that client in a room; then b falls silent past its TTL. */
  async function silentNodeB(): Promise<{ b: NatsState; kv: KV; sweeper: NatsNodes }> {
    const prefix = testPrefix()
    const b = new NatsState([backend.service!.url], prefix)
    await b.connect()
    closing.push(() => b.close())
    assert.equal(await b.heartbeat(nodeB, TTL_MS), false, 'the first beat: unknown')
    await b.addClient({ ...memberB, connected_at: 1 })
    await b.join('lobby', memberB, room)
    const nc: NatsConnection = await openNats([backend.service!.url], 'test-sweeper', 'test')
    closing.push(() => nc.close())
    const js = jetstream(nc)
    const jsm = await js.jetstreamManager()
    const kv = await new Kvm(js).open(`${prefix}_state`)
    const sweeper = new NatsNodes((keys) => forget(jsm, `${prefix}_state`, keys))
    await sleep(TTL_MS * 2)
    return { b, kv, sweeper }
  }

  it('reports the node unknown to a beat that read its record before a sweeper marked it and removed its members', async () => {
    const { b, kv, sweeper } = await silentNodeB()
    const beater = new NatsNodes(async () => {})
    let removed: Array<{ room: string; member: MemberRecord }> = []
    // The beat reads b's record (alive, not marked), then the sweeper sweeps b, then the beat writes.
    const beatingKv = held(kv, 'get', ([key]) => key === 'n.b', async () => void (removed = await sweeper.sweep(kv)))
    const known = await beater.heartbeat(beatingKv, nodeB, TTL_MS)
    assert.deepEqual(removed, [{ room: 'lobby', member: memberB }], 'the sweeper removed b\'s member')
    assert.equal(known, false, 'b must learn that it was swept, to write its members back')
    assert.deepEqual((await b.nodes()).map((n) => n.node_id), ['b'], 'b is alive after its beat')
  })

  it('has a node that wrote itself back while a sweeper was removing its members write itself back again', async () => {
    const { b, kv, sweeper } = await silentNodeB()
    let knownAfterMark: boolean | null = null
    // Right after the sweeper marked b dead, before it removes b's members and clients: b beats, finds itself swept, and writes itself back.
    const sweepingKv = held(kv, 'update', ([key, value]) => key === 'n.b' && String(value).includes('"dead":true'), async () => {
      knownAfterMark = await b.heartbeat(nodeB, TTL_MS)
      await b.addClient({ ...memberB, connected_at: 1 })
      await b.join('lobby', memberB, room)
    })
    await sweeper.sweep(sweepingKv)
    assert.equal(knownAfterMark, false, 'the beat after the mark reports b unknown')
    // The sweep went on and removed what b had just written back; b's next beat must say so.
    const stillThere = ((await b.members('lobby')) ?? []).some((m) => m.client_id === memberB.client_id) && (await b.getClient(memberB.client_id)) !== null
    const known = await b.heartbeat(nodeB, TTL_MS)
    assert.ok(stillThere || known === false, `b's member is gone from the state (held: ${stillThere}) and b's next beat reports it known (${known}): it would never write it back`)
    assert.deepEqual((await b.nodes()).map((n) => n.node_id), ['b'])
  })
})
