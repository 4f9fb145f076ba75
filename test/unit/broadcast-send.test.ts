import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { RoomTarget, type Delivery } from '../../lib/broadcast.js'

/** Records what a target hands to delivery. */
function recorder(): Delivery & { calls: Array<{ rooms: readonly string[]; frame: string; except: readonly string[] }> } {
  const calls: Array<{ rooms: readonly string[]; frame: string; except: readonly string[] }> = []
  return {
    calls,
    async deliverToRooms(rooms, frame, except) {
      calls.push({ rooms, frame, except })
    },
  }
}

describe('RoomTarget.send', () => {
  it('encodes one delivery frame with the type, data and a timestamp', async () => {
    const delivery = recorder()
    await new RoomTarget(delivery, ['lobby']).send('notice', { text: 'hi' })
    const frame = JSON.parse(delivery.calls[0]!.frame)
    assert.equal(frame.message_type, 'notice')
    assert.deepEqual(frame.data, { text: 'hi' })
    assert.equal(typeof frame.timestamp, 'number')
  })

  it('leaves out one client given as options.except', async () => {
    const delivery = recorder()
    await new RoomTarget(delivery, ['lobby']).send('notice', null, { except: 'n.a' })
    assert.deepEqual(delivery.calls[0]!.except, ['n.a'])
  })

  it('adds a list in options.except to the clients .except() left out', async () => {
    const delivery = recorder()
    const target = new RoomTarget(delivery, ['lobby']).except('n.a')
    await target.send('notice', null, { except: ['n.b', 'n.c'] })
    assert.deepEqual(delivery.calls[0]!.except, ['n.a', 'n.b', 'n.c'])
    assert.deepEqual(target.excluded, ['n.a'])
  })
})

describe('RoomTarget.except', () => {
  it('returns a new target and leaves the original unchanged', () => {
    const delivery = recorder()
    const all = new RoomTarget(delivery, ['lobby'])
    const some = all.except('n.a')
    assert.notEqual(all, some)
    assert.deepEqual(all.excluded, [])
    assert.deepEqual(some.excluded, ['n.a'])
  })
})
