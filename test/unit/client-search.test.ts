/**
 * searchClients on a bare host: what a page of a room search reads from the cluster
 * state. The HTTP side (filters, paging, 404) is test/integration/client-search.test.ts.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { searchClients, type SearchHost } from '../../lib/client-search.js'
import type { ClientRecord, MemberRecord } from '../../lib/cluster/state.js'

/** A room `big` of `n` members (client ids c00000...), and counts of the per-client reads. */
function host(n: number, gone: Set<string> = new Set()) {
  const members: MemberRecord[] = []
  for (let i = n - 1; i >= 0; i--) members.push({ client_id: `c${String(i).padStart(5, '0')}`, user_id: i % 2 === 0 ? 'even' : 'odd', node_id: 'n1' })
  const reads = { getClient: 0, roomsOf: 0 }
  const app: SearchHost = {
    rooms: { members: async (room: string) => (room === 'big' ? members.map((m) => ({ ...m })) : null) },
    state: {
      getClient: async (id: string) => {
        reads.getClient++
        const m = members.find((x) => x.client_id === id)
        return m === undefined || gone.has(id) ? null : ({ ...m, connected_at: 1 } satisfies ClientRecord)
      },
      roomsOf: async () => {
        reads.roomsOf++
        return ['big']
      },
      listClients: async () => ({ clients: [], next: null }),
      clientsOfUser: async () => [],
    },
  }
  return { app, reads }
}

describe('searchClients by room', () => {
  it('reads the client records and rooms of the page only, not of every member', async () => {
    const { app, reads } = host(5000)
    const page = await searchClients(app, { room: 'big' }, 50, null)
    assert.equal(page.count, 5000)
    assert.equal(page.clients.length, 50)
    assert.equal(page.clients[0]!.client_id, 'c00000')
    assert.deepEqual(page.clients[0], { client_id: 'c00000', user_id: 'even', node_id: 'n1', connected_at: 1, rooms: ['big'] })
    assert.equal(page.next, 'c00049')
    assert.deepEqual(reads, { getClient: 50, roomsOf: 50 })
  })

  it('pages on from the cursor, with a user filter too, and leaves out a member whose client is gone', async () => {
    const { app, reads } = host(300, new Set(['c00102']))
    const page = await searchClients(app, { room: 'big', userId: 'even' }, 10, 'c00099')
    assert.equal(page.count, 150)
    assert.deepEqual(page.clients.map((c) => c.client_id), ['c00100', 'c00104', 'c00106', 'c00108', 'c00110', 'c00112', 'c00114', 'c00116', 'c00118'])
    assert.equal(page.next, 'c00118')
    assert.equal(reads.getClient, 10)
  })
})
