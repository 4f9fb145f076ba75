/** The built-in routes registered on a bare Router, with no Application: room_message's history offsets and its fallback when the state is out of reach. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import { Router, type Handler, type RouteOptions } from '../../middleware/router.js'
import { registerBuiltinRoutes, type BuiltinRoutesHost } from '../../lib/builtin-routes.js'
import { MemoryState } from '../../lib/cluster/memory.js'
import { StateUnavailableError, type ClusterState } from '../../lib/cluster/state.js'
import { resolveConfig } from '../../lib/config.js'
import { Context, type ContextHost } from '../../lib/context.js'
import { ErrorCode } from '../../lib/errors.js'
import { fakeConnection } from '../support/parts.js'

function routes(state: ClusterState, historySize: number) {
  const router = new Router()
  const delivered: Array<{ frame: any; except: readonly string[] }> = []
  const missed: unknown[] = []
  const host: BuiltinRoutesHost = {
    route(type: string, a: RouteOptions | Handler, b?: Handler) {
      return typeof a === 'function' ? router.add(type, {}, a) : router.add(type, a, b!)
    },
    config: resolveConfig({ rooms: { history_size: historySize } }),
    state,
    link: { stateMissed: (err) => missed.push(err), historyMissed: (err) => missed.push(err) },
    deliverToRooms: async (_rooms, frame, except) => void delivered.push({ frame: JSON.parse(frame), except }),
  }
  registerBuiltinRoutes(host)
  const chain = router.middleware()
  const unused = () => {
    throw new Error('not used by room_message')
  }
  const contextHost: ContextHost = { log: pino({ level: 'silent' }), rooms: { join: unused, leave: unused, members: unused }, to: unused, toUser: unused, broadcast: unused, sendTo: unused }
  const { conn, socket } = fakeConnection('n1.a', 'n1')
  conn.rooms.add('lobby')
  const send = (type: string, data: unknown) => chain(new Context(contextHost, conn, type, data, 1))
  return { router, send, delivered, missed, socket }
}

describe('built-in routes without an Application', () => {
  it('registers the protocol message types', () => {
    const { router } = routes(new MemoryState(), 0)
    for (const type of ['ping', 'join_room', 'leave_room', 'room_message', 'direct_message', 'room_members']) assert.ok(router.has(type), type)
  })

  it('gives room messages the offsets of their room history, and leaves the sender out', async () => {
    const state = new MemoryState()
    await state.createRoom({ id: 'lobby', name: 'lobby', max_clients: 0, presence_events: null, created_at: 1 })
    const { send, delivered } = routes(state, 10)
    await send('room_message', { room_id: 'lobby', content: 'one' })
    await send('room_message', { room_id: 'lobby', content: 'two' })
    assert.deepEqual(delivered.map((d) => [d.frame.data.content, d.frame.data.offset, d.except]), [['one', 1, ['n1.a']], ['two', 2, ['n1.a']]])
    assert.equal((await state.history('lobby', 0)).entries.length, 2)
  })

  it('delivers without an offset, and says so to the link, when the state is out of reach', async () => {
    const state = new MemoryState()
    state.appendHistory = async () => {
      throw new StateUnavailableError('down')
    }
    const { send, delivered, missed } = routes(state, 10)
    await send('room_message', { room_id: 'lobby', content: 'lost' })
    assert.equal(delivered.length, 1)
    assert.equal(delivered[0]!.frame.data.offset, undefined)
    assert.deepEqual(missed.map((e) => (e as Error).message), ['down'])
  })

  it('refuses a room_message from a client not in the room with 3003', async () => {
    const { send } = routes(new MemoryState(), 0)
    await assert.rejects(send('room_message', { room_id: 'elsewhere', content: 'x' }), { code: ErrorCode.NotInRoom })
  })
})
