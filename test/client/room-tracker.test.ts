import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { RoomTracker } from '../../lib/client/room-tracker.js'

const msg = (offset: number, room = 'r') => ({ room_id: room, content: 'x', sender_id: 'n.a', offset })

describe('RoomTracker', () => {
  it('asks for no since when it has seen no offset', () => {
    const rooms = new RoomTracker()
    rooms.joining('r', null)
    assert.deepEqual(rooms.joinData('r'), { room_id: 'r' })
    assert.equal(rooms.joined('r', undefined), false)
  })

  it('rejoins from the last offset it saw', () => {
    const rooms = new RoomTracker()
    rooms.joining('r', null)
    rooms.joinData('r')
    rooms.joined('r', undefined)
    rooms.accept(msg(4))
    rooms.accept(msg(7))
    assert.deepEqual(rooms.joinData('r'), { room_id: 'r', since: 7 })
  })

  it('knows the since of a recovered join even when nothing was replayed', () => {
    const rooms = new RoomTracker()
    rooms.joining('r', 0)
    rooms.joinData('r')
    assert.equal(rooms.joined('r', true), true)
    assert.deepEqual(rooms.joinData('r'), { room_id: 'r', since: 0 })
  })

  it('drops a message delivered both live and in the replay of a join', () => {
    const rooms = new RoomTracker()
    rooms.joining('r', 2)
    rooms.joinData('r')
    assert.equal(rooms.accept(msg(5)), true)
    assert.equal(rooms.accept(msg(3)), true)
    assert.equal(rooms.accept(msg(5)), false)
    rooms.joined('r', true)
    assert.equal(rooms.offset('r'), 5)
  })

  // A server whose cluster state is out of reach still delivers room messages, kept in no history and without offset.
  it('takes a message without offset and keeps the last offset it saw for the next rejoin', () => {
    const rooms = new RoomTracker()
    rooms.joining('r', null)
    rooms.joinData('r')
    rooms.joined('r', undefined)
    rooms.accept(msg(4))
    assert.equal(rooms.accept({ room_id: 'r', content: 'x', sender_id: 'n.a' }), true)
    assert.equal(rooms.offset('r'), 4)
    assert.deepEqual(rooms.joinData('r'), { room_id: 'r', since: 4 })
  })

  it('takes every message without offset during a replay: none of them is a repeat it could tell', () => {
    const rooms = new RoomTracker()
    rooms.joining('r', 2)
    rooms.joinData('r')
    for (let i = 0; i < 2; i++) assert.equal(rooms.accept({ room_id: 'r', content: 'same', sender_id: 'n.a' }), true)
    rooms.joined('r', true)
    assert.equal(rooms.offset('r'), 2)
  })

  it('lists only confirmed rooms for a rejoin', () => {
    const rooms = new RoomTracker()
    rooms.joining('a', null)
    rooms.joined('a', undefined)
    rooms.joining('b', null)
    assert.deepEqual(rooms.joinedRooms(), ['a'])
  })

  it('reports a gap when the server could not replay from since', () => {
    const rooms = new RoomTracker()
    rooms.joining('r', 3)
    rooms.joinData('r')
    assert.equal(rooms.joined('r', false), false)
  })

  it('takes its offset afresh after a join that was not recovered (a server that lost its history counts from 1 again)', () => {
    const rooms = new RoomTracker()
    rooms.joining('r', 30)
    rooms.joinData('r')
    rooms.joined('r', false)
    rooms.accept({ room_id: 'r', offset: 2 })
    assert.deepEqual(rooms.joinData('r'), { room_id: 'r', since: 2 })
  })
})
