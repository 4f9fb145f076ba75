/**
 * Clients of the whole cluster that match a filter (a user id, a room, or both), for
 * `GET /api/clients?user_id=&room=`. A room filter reads the room's members, a user
 * filter alone the state's index of the user's clients (`clientsOfUser`), and no filter
 * every client record page by page.
 */
import type { ClientInfo } from './clients.js'
import type { ClientRecord, ClusterState } from './cluster/state.js'
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
 * Every client of the cluster that matches, ordered by client id.
 *
 * @example
 * ```ts
 * const bobs = await matchingClients(app, { userId: 'bob' })
 * ```
 */
export async function matchingClients(app: SearchHost, filter: ClientFilter): Promise<ClientRecord[]> {
  const { userId = null, room = null } = filter
  let found: ClientRecord[] = []
  if (room !== null) {
    const members = await app.rooms.members(Rooms.check(room))
    if (members === null) throw new AppError(ErrorCode.RoomNotFound, `room ${room} does not exist`)
    const wanted = userId === null ? members : members.filter((m) => m.user_id === userId)
    // A member record has no connected_at: read the client's own record (gone ones are skipped).
    const records = await Promise.all(wanted.map((m) => app.state.getClient(m.client_id)))
    found = records.filter((r): r is ClientRecord => r !== null)
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
 * One page of the matching clients after `cursor` (a client id), with their rooms.
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
  const clients = await Promise.all(slice.map(async (c) => ({ ...c, rooms: await app.state.roomsOf(c.client_id) })))
  return { count: all.length, clients, next: more ? slice.at(-1)!.client_id : null }
}
