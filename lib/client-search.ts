/**
 * Clients of the whole cluster that match a filter (a user id, a room, or both), for
 * `GET /api/clients?user_id=&room=`. A room filter reads the room's members, a user
 * filter alone the state's index of the user's clients (`clientsOfUser`), and no filter
 * every client record page by page.
 */
import type { ClientInfo } from './clients.js'
import type { ClientRecord, ClusterState, MemberRecord } from './cluster/state.js'
import { AppError, ErrorCode } from './errors.js'
import { Rooms } from './rooms.js'

/** What a search reads (application.ts hands it the app). */
export interface SearchHost {
  readonly rooms: Pick<Rooms, 'members'>
  readonly state: Pick<ClusterState, 'getClient' | 'listClients' | 'roomsOf' | 'clientsOfUser'>
}

/** What to match: every given field must match. */
export interface ClientFilter {
  userId?: string | null
  room?: string | null
}

/** One page of matches, and how many match in all. */
export interface ClientSearchPage {
  count: number
  clients: ClientInfo[]
  next: string | null
}

const SCAN_PAGE = 1000

/**
 * Every client of the cluster that matches, ordered by client id: member records for a
 * room filter (their client id, user id and node, without `connected_at`), client
 * records otherwise.
 *
 * @example
 * ```ts
 * const bobs = await matchingClients(app, { userId: 'bob' })
 * ```
 */
export async function matchingClients(app: SearchHost, filter: ClientFilter): Promise<MemberRecord[]> {
  const { userId = null, room = null } = filter
  let found: MemberRecord[] = []
  if (room !== null) {
    const members = await app.rooms.members(Rooms.check(room))
    if (members === null) throw new AppError(ErrorCode.RoomNotFound, `room ${room} does not exist`)
    found = userId === null ? members : members.filter((m) => m.user_id === userId)
  } else if (userId !== null) {
    found = await app.state.clientsOfUser(userId)
  } else {
    let cursor: string | null = null
    do {
      const page: { clients: ClientRecord[]; next: string | null } = await app.state.listClients(SCAN_PAGE, cursor)
      found.push(...page.clients)
      cursor = page.next
    } while (cursor !== null)
  }
  return found.sort((a, b) => (a.client_id < b.client_id ? -1 : a.client_id > b.client_id ? 1 : 0))
}

/**
 * One page of the matching clients after `cursor` (a client id), with their rooms. Only
 * the page's clients are read one by one (their records and rooms): a search in a room
 * of 100,000 members reads its member list, and 50 client records for a page of 50.
 *
 * @example
 * ```ts
 * const page = await searchClients(app, { room: 'lobby' }, 50, null)
 * const more = page.next === null ? null : await searchClients(app, { room: 'lobby' }, 50, page.next)
 * ```
 */
export async function searchClients(app: SearchHost, filter: ClientFilter, limit: number, cursor: string | null): Promise<ClientSearchPage> {
  const all = await matchingClients(app, filter)
  const start = cursor === null ? 0 : all.findIndex((c) => c.client_id > cursor)
  const slice = start === -1 ? [] : all.slice(start, start + limit)
  const more = start !== -1 && start + limit < all.length
  const read = await Promise.all(
    slice.map(async (m) => {
      // A member record has no connected_at: the client's own record has (a client gone since is left out).
      const record = 'connected_at' in m ? (m as ClientRecord) : await app.state.getClient(m.client_id)
      return record === null ? null : { ...record, rooms: await app.state.roomsOf(record.client_id) }
    }),
  )
  const clients = read.filter((c): c is ClientInfo => c !== null)
  return { count: all.length, clients, next: more ? slice.at(-1)!.client_id : null }
}
