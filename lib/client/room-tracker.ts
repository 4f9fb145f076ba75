/**
 * The rooms a client is in, and the last room offset it saw in each, so that a rejoin
 * after a reconnect asks for exactly what it missed (`since`). While a join with
 * `since` is in flight the server may send a message both live and in the replay; the
 * offsets seen in that window drop the repeat.
 */

interface TrackedRoom {
  /** The join was confirmed: rejoin this room after a reconnect. */
  joined: boolean
  /** The last offset seen, or the `since` of a recovered join; null when unknown. */
  offset: number | null
  /** The `since` the join in flight asked for. */
  since: number | null
  /** Offsets delivered while a join with `since` is in flight. */
  replay: Set<number> | null
}

export class RoomTracker {
  private readonly rooms = new Map<string, TrackedRoom>()

  /** A join starts; `since` asks for the messages after that offset. */
  joining(room: string, since: number | null): void {
    const known = this.rooms.get(room)
    this.rooms.set(room, { joined: known?.joined ?? false, offset: since ?? known?.offset ?? null, since: null, replay: null })
  }

  /** The `join_room` data for the next (re)send of a join: `since` is the last offset seen. */
  joinData(room: string): { room_id: string; since?: number } {
    const tracked = this.rooms.get(room)
    if (tracked === undefined || tracked.offset === null) {
      if (tracked !== undefined) tracked.since = null
      return { room_id: room }
    }
    tracked.since = tracked.offset
    tracked.replay = new Set()
    return { room_id: room, since: tracked.offset }
  }

  /**
   * The join was confirmed. Returns whether no message was missed: a `since` was asked
   * and the server replayed everything after it.
   */
  joined(room: string, serverRecovered: boolean | undefined): boolean {
    const tracked = this.rooms.get(room)
    if (tracked === undefined) return false
    const recovered = tracked.since !== null && serverRecovered === true
    // Everything after `since` was replayed, so `since` is known even if nothing came.
    if (recovered && (tracked.offset === null || tracked.offset < tracked.since!)) tracked.offset = tracked.since
    // Not recovered: the old offset says nothing any more (the server may even have lost its
    // history and counts from 1 again), so the next message sets it afresh.
    else if (!recovered && tracked.since !== null) tracked.offset = null
    tracked.joined = true
    tracked.since = null
    tracked.replay = null
    return recovered
  }

  remove(room: string): void {
    this.rooms.delete(room)
  }

  has(room: string): boolean {
    return this.rooms.has(room)
  }

  /** The last offset seen in a room, or null. */
  offset(room: string): number | null {
    return this.rooms.get(room)?.offset ?? null
  }

  /** Rooms whose join was confirmed, to rejoin after a reconnect. */
  joinedRooms(): string[] {
    const names: string[] = []
    for (const [name, tracked] of this.rooms) if (tracked.joined) names.push(name)
    return names
  }

  /** Takes a `room_message`'s data; false for a repeat of one already delivered during a replay. */
  accept(data: unknown): boolean {
    if (typeof data !== 'object' || data === null) return true
    const { room_id: roomId, offset } = data as { room_id?: unknown; offset?: unknown }
    if (typeof roomId !== 'string' || typeof offset !== 'number') return true
    const tracked = this.rooms.get(roomId)
    if (tracked === undefined) return true
    if (tracked.replay !== null) {
      if (tracked.replay.has(offset)) return false
      tracked.replay.add(offset)
    }
    if (tracked.offset === null || offset > tracked.offset) tracked.offset = offset
    return true
  }

  /** The connection ended: joins in flight are void. */
  connectionLost(): void {
    for (const tracked of this.rooms.values()) {
      tracked.since = null
      tracked.replay = null
    }
  }
}
