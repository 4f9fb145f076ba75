import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { MemoryState } from '../../lib/cluster/memory.js'
import { StateUnavailableError, type ClientRecord } from '../../lib/cluster/state.js'
import { UserTarget } from '../../lib/user-target.js'
import { startNode, type TestNode } from '../support/node.js'
import { hs256, SECRET } from '../support/tokens.js'
import { rawRequest, UPGRADE_HEADERS } from '../support/raw-http.js'

/** A memory state whose user lookups fail as an unreachable Redis or NATS would. */
class UnreachableUsers extends MemoryState {
  override async clientsOfUser(_userId: string): Promise<ClientRecord[]> {
    throw new StateUnavailableError('the cluster state is out of reach (test)')
  }
}

const token = (user: string) => `?token=${hs256({ sub: user })}`

describe('users as targets while the cluster state is out of reach', () => {
  let node: TestNode
  after(() => node?.close())

  it('reaches this node\'s connections of the user, and counts them for auth.max_connections_per_user', async () => {
    node = await startNode({ auth: { secret: SECRET, max_connections_per_user: 2 } }, { state: new UnreachableUsers() })
    const [one, two] = [await node.connect(token('zoe')), await node.connect(token('zoe'))]
    await node.connect(token('other'))
    assert.equal(await node.app.toUser('zoe').send('notice', { n: 1 }), 2)
    for (const client of [one, two]) assert.deepEqual((await client.next('notice')).data, { n: 1 })
    const answer = await rawRequest(node.port, `/ws${token('zoe')}`, UPGRADE_HEADERS)
    assert.equal(answer.status, 429)
    assert.equal((JSON.parse(answer.body) as { code: number }).code, 2004)
  })
})

describe('UserTarget', () => {
  it('refuses a user id that is not a string', () => {
    assert.throws(() => new UserTarget({} as never, 42 as never), TypeError)
  })
})
