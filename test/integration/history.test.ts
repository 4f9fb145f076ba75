import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, type TestNode } from '../support/node.js'
import type { TestClient } from '../support/ws-client.js'
import { eventually } from '../support/expect.js'
import { MemoryState } from '../../lib/cluster/memory.js'
import type { HistoryReplay } from '../../lib/cluster/state.js'

let node: TestNode
let roomCounter = 0
const freshRoom = () => `history-${++roomCounter}`

before(async () => {
  node = await startNode({ rooms: { history_size: 3 } })
})
after(() => node.close())

/** Sends n messages from `sender` to `room`, each acknowledged, and resolves to the offsets `reader` saw. */
async function sendMessages(sender: TestClient, reader: TestClient, room: string, contents: string[]): Promise<number[]> {
  const offsets = []
  for (const content of contents) {
    await sender.request('room_message', { room_id: room, content })
    offsets.push((await reader.next('room_message')).data.offset)
  }
  return offsets
}

describe('rooms.history_size', () => {
  it('gives each room_message an offset that increases across the room', async () => {
    const [a, b] = [await node.connect(), await node.connect()]
    const room = freshRoom()
    await a.request('join_room', { room_id: room })
    await b.request('join_room', { room_id: room })
    const offsets = await sendMessages(a, b, room, ['1', '2'])
    await b.request('room_message', { room_id: room, content: '3' })
    offsets.push((await a.next('room_message')).data.offset)
    assert.ok(offsets.every((o) => Number.isInteger(o)), JSON.stringify(offsets))
    assert.ok(offsets[0]! < offsets[1]! && offsets[1]! < offsets[2]!, JSON.stringify(offsets))
  })

  it('replays what came after since, in order, before room_joined with recovered true', async () => {
    const [a, b, late] = [await node.connect(), await node.connect(), await node.connect()]
    const room = freshRoom()
    await a.request('join_room', { room_id: room })
    await b.request('join_room', { room_id: room })
    const offsets = await sendMessages(a, b, room, ['one', 'two', 'three'])
    late.send({ message_type: 'join_room', data: { room_id: room, since: offsets[0] }, message_id: 'j' })
    const frames = [await late.next(() => true), await late.next(() => true), await late.next(() => true)]
    assert.deepEqual(frames.map((f) => f.message_type), ['room_message', 'room_message', 'room_joined'])
    assert.deepEqual(frames.slice(0, 2).map((f) => [f.data.content, f.data.offset]), [['two', offsets[1]], ['three', offsets[2]]])
    assert.deepEqual(frames[2]!.data, { room_id: room, status: 'joined', members: 3, recovered: true })
    assert.equal(frames[2]!.request_id, 'j')
  })

  it('answers recovered true and replays nothing when since is the latest offset', async () => {
    const [a, b, late] = [await node.connect(), await node.connect(), await node.connect()]
    const room = freshRoom()
    await a.request('join_room', { room_id: room })
    await b.request('join_room', { room_id: room })
    const [last] = await sendMessages(a, b, room, ['only'])
    const reply = await late.request('join_room', { room_id: room, since: last })
    assert.equal(reply.data.recovered, true)
    assert.deepEqual(late.frames, [])
  })

  it('answers recovered false and replays nothing when since is older than the kept history', async () => {
    const [a, b, late] = [await node.connect(), await node.connect(), await node.connect()]
    const room = freshRoom()
    await a.request('join_room', { room_id: room })
    await b.request('join_room', { room_id: room })
    const offsets = await sendMessages(a, b, room, ['1', '2', '3', '4', '5'])
    const reply = await late.request('join_room', { room_id: room, since: offsets[0] })
    assert.equal(reply.message_type, 'room_joined')
    assert.equal(reply.data.recovered, false)
    assert.deepEqual(late.frames, [])
  })

  it('leaves recovered out of room_joined when no since was given', async () => {
    const client = await node.connect()
    const reply = await client.request('join_room', { room_id: freshRoom() })
    assert.equal('recovered' in reply.data, false)
  })

  it('answers 1001 to a since that is not a non-negative integer', async () => {
    const client = await node.connect()
    for (const since of [-1, 1.5, 'x']) {
      const reply = await client.request('join_room', { room_id: freshRoom(), since })
      assert.equal(reply.message_type, 'error')
      assert.equal(reply.data.code, 1001)
    }
  })
})

/** A memory state whose history reads take a while, as a networked state's do. */
class SlowHistoryState extends MemoryState {
  historyReads = 0
  override async history(roomId: string, since: number): Promise<HistoryReplay> {
    this.historyReads++
    await new Promise((r) => setTimeout(r, 150))
    return super.history(roomId, since)
  }
}

describe('join_room with since, while messages keep coming', () => {
  it('delivers the replay and the live messages each once, in offset order', async () => {
    const state = new SlowHistoryState()
    const slow = await startNode({ rooms: { history_size: 10 } }, { state })
    try {
      const [a, late] = [await slow.connect(), await slow.connect()]
      const seen: string[] = []
      late.socket.on('message', (raw) => {
        const frame = JSON.parse(raw.toString())
        seen.push(frame.message_type === 'room_message' ? frame.data.content : frame.message_type)
      })
      await a.request('join_room', { room_id: 'busy' })
      for (const content of ['1', '2', '3']) await a.request('room_message', { room_id: 'busy', content })
      late.send({ message_type: 'join_room', data: { room_id: 'busy', since: 1 }, message_id: 'j' })
      await eventually(() => state.historyReads === 1, 3000, 'history read started')
      // Sent while the joiner's history read is in flight: it is already a member.
      await a.request('room_message', { room_id: 'busy', content: '4' })
      assert.equal((await late.next((f) => f.request_id === 'j')).data.recovered, true)
      await a.request('room_message', { room_id: 'busy', content: '5' })
      await late.next((f) => f.message_type === 'room_message' && f.data.content === '5')
      assert.deepEqual(seen, ['2', '3', '4', 'room_joined', '5'])
    } finally {
      await slow.close()
    }
  })
})
