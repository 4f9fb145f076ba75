import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawnNode, repoRoot, type NodeProcess } from '../support/process.js'
import { TestClient } from '../support/ws-client.js'

// Runs the example as a user would (node dist/examples/custom-handler/app.js) and talks to it.
async function startExample(): Promise<NodeProcess> {
  return spawnNode({}, [], `${repoRoot}/dist/examples/custom-handler/app.js`)
}

describe('examples/custom-handler', () => {
  let node: NodeProcess
  after(() => node?.child.kill('SIGKILL'))

  it('answers its custom route and relays shouts to the room', async () => {
    node = await startExample()
    const url = `ws://127.0.0.1:${node.port}/ws`
    const a = await TestClient.connect(url)
    const b = await TestClient.connect(url)
    const reply = await a.request('my_custom_action')
    assert.deepEqual(reply.data, { ok: true, you: a.id })
    await a.request('join_room', { room_id: 'lobby' })
    await b.request('join_room', { room_id: 'lobby' })
    a.send({ message_type: 'shout', data: { room_id: 'lobby', text: 'hi' } })
    const shout = await b.next('shout')
    assert.deepEqual(shout.data, { text: 'HI', from: a.id })
    assert.deepEqual(await a.quiet(), [], 'the shouter does not get its own shout')
    a.close()
    b.close()
  })
})
