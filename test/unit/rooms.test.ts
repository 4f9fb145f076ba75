/** Rooms made without an Application: a MemoryState, the app's events on a plain emitter, a link and a delivery that record. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Rooms, type RoomsHost, type RoomsLink } from '../../lib/rooms.js'
import { MemoryState } from '../../lib/cluster/memory.js'
import { resolveConfig, type WshubConfig } from '../../lib/config.js'
import { SharedFrame } from '../../lib/shared-frame.js'
import { encodeDelivery } from '../../lib/protocol.js'
import { ErrorCode } from '../../lib/errors.js'
import { eventEmitter, fakeConnection } from '../support/parts.js'

function rooms(config: Partial<WshubConfig['rooms']> = {}) {
  const state = new MemoryState()
  const events = eventEmitter()
  const watched: string[] = []
  const calls: string[] = []
  const delivered: Array<{ rooms: readonly string[]; frame: any; except: readonly string[] }> = []
  const link: RoomsLink = {
    async watchRoom(room) {
      watched.push(room)
      calls.push(`watch ${room}`)
    },
    async unwatchRoom(room) {
      watched.splice(watched.indexOf(room), 1)
      calls.push(`unwatch ${room}`)
    },
    async publishRoomDeleted(room) {
      calls.push(`deleted ${room}`)
    },
    stateMissed(err) {
      calls.push(`missed ${(err as Error).message}`)
    },
  }
  const host = {
    config: resolveConfig({ rooms: config }),
    state,
    link,
    async deliverToRooms(rooms: readonly string[], frame: string, except: readonly string[]) {
      delivered.push({ rooms, frame: JSON.parse(frame), except })
    },
    emit: events.emit.bind(events),
    listenerCount: events.listenerCount.bind(events),
  } satisfies RoomsHost
  return { rooms: new Rooms(host), host, state, events, watched, calls, delivered }
}

describe('Rooms without an Application', () => {
  it('joins a member in the state and locally, subscribes the room once, and delivers to its local members', async () => {
    const { rooms: r, state, watched } = rooms()
    const a = fakeConnection('n1.a', 'n1')
    const b = fakeConnection('n1.b', 'n1')
    assert.deepEqual(await r.join(a.conn, 'lobby', null), { members: 1, recovered: null })
    assert.deepEqual(await r.join(b.conn, 'lobby', null), { members: 2, recovered: null })
    assert.deepEqual(watched, ['lobby'])
    assert.deepEqual((await state.members('lobby'))?.map((m) => m.client_id).sort(), ['n1.a', 'n1.b'])
    assert.equal(r.localCount, 1)
    const sent = r.deliverLocal(['lobby'], new SharedFrame(encodeDelivery('note', { n: 1 }, 5)), ['n1.a'])
    assert.equal(sent, 1)
    assert.deepEqual(a.socket.sent, [])
    assert.deepEqual(b.socket.sent, [{ message_type: 'note', data: { n: 1 }, timestamp: 5 }])
  })

  it('refuses a join past max_clients with 3002 and leaves no member behind', async () => {
    const { rooms: r, state } = rooms()
    await r.create({ id: 'small', max_clients: 1 })
    await r.join(fakeConnection('n1.a', 'n1').conn, 'small', null)
    const late = fakeConnection('n1.b', 'n1').conn
    await assert.rejects(r.join(late, 'small', null), { code: ErrorCode.RoomFull })
    assert.equal(late.rooms.size, 0)
    assert.equal((await state.members('small'))?.length, 1)
  })

  it('emits room_joined and room_left, and unsubscribes the room when its last local member leaves', async () => {
    const { rooms: r, events, calls } = rooms()
    const seen: string[] = []
    events.on('room_joined', (e) => seen.push(`joined ${e.room} ${e.clientId}`))
    events.on('room_left', (e) => seen.push(`left ${e.room} ${e.clientId} ${e.reason}`))
    const a = fakeConnection('n1.a', 'n1').conn
    await r.join(a, 'lobby', null)
    await r.leave(a, 'lobby')
    assert.deepEqual(seen, ['joined lobby n1.a', 'left lobby n1.a left'])
    assert.deepEqual(calls, ['watch lobby', 'unwatch lobby'])
    await assert.rejects(r.leave(a, 'lobby'), { code: ErrorCode.NotInRoom })
  })

  it('sends member_joined through the delivery it is given, to the others, where presence is on', async () => {
    const { rooms: r, delivered } = rooms({ presence_events: true })
    await r.join(fakeConnection('n1.a', 'n1', { userId: 'ann' }).conn, 'lobby', null)
    assert.equal(delivered.length, 1)
    assert.deepEqual(delivered[0]!.rooms, ['lobby'])
    assert.deepEqual(delivered[0]!.except, ['n1.a'])
    assert.deepEqual(delivered[0]!.frame.data, { room_id: 'lobby', client_id: 'n1.a', user_id: 'ann' })
    assert.equal(delivered[0]!.frame.message_type, 'member_joined')
  })

  it('reads the configuration in force at each use (a reload replaces the config object)', async () => {
    const { rooms: r, host } = rooms({ default_max_clients: 5 })
    assert.equal(r.record({ id: 'x' }).max_clients, 5)
    host.config = resolveConfig({ rooms: { default_max_clients: 7, auto_create: false } })
    assert.equal(r.record({ id: 'y' }).max_clients, 7)
    await assert.rejects(r.join(fakeConnection('n1.a', 'n1').conn, 'nowhere', null), { code: ErrorCode.RoomNotFound })
  })

  it('deletes a room: its local members get room_left (deleted) and the other nodes are told', async () => {
    const { rooms: r, calls, state } = rooms()
    const a = fakeConnection('n1.a', 'n1')
    await r.join(a.conn, 'lobby', null)
    await r.delete('lobby')
    assert.equal(a.conn.rooms.size, 0)
    assert.deepEqual(a.socket.sent.map((f) => [f.message_type, f.data]), [['room_left', { room_id: 'lobby', status: 'left', reason: 'deleted' }]])
    assert.deepEqual(calls, ['watch lobby', 'unwatch lobby', 'deleted lobby'])
    assert.equal(await state.getRoom('lobby'), null)
    await assert.rejects(r.delete('lobby'), { code: ErrorCode.RoomNotFound })
  })
})
