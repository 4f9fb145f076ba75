/**
 * Broadcast targets: `to(room)` names who gets a frame, `except(id)` narrows it, and
 * `send` encodes the frame once for every recipient, local and across the bus. A target
 * is immutable, so one can be kept and reused.
 */
import { checkRoomId, encodeDelivery } from './protocol.js'

/** Where a target's frames go; implemented by the node. */
export interface Delivery {
  deliverToRooms(rooms: readonly string[], frame: string, except: readonly string[]): Promise<void>
}

/** Options of {@link RoomTarget.send}. */
export interface SendOptions {
  /** A client id, or several, to leave out. */
  except?: string | readonly string[]
}

/**
 * @example
 * ```ts
 * await app.to('lobby').except(clientId).send('notice', { text: 'hi' })
 * ```
 */
export class RoomTarget {
  constructor(
    private readonly delivery: Delivery,
    readonly rooms: readonly string[],
    readonly excluded: readonly string[] = [],
  ) {}

  /** Adds another room; a client in several of them gets the frame once. Fails with 1001 for a bad room id, as `app.to` does. */
  to(room: string): RoomTarget {
    return new RoomTarget(this.delivery, [...this.rooms, checkRoomId(room)], this.excluded)
  }

  /** Leaves a client out. */
  except(clientId: string): RoomTarget {
    return new RoomTarget(this.delivery, this.rooms, [...this.excluded, clientId])
  }

  /**
   * Sends `{message_type: type, data, timestamp}` to every member; settles once the bus
   * accepted it. `except` leaves more clients out, as `.except(id)` does.
   *
   * @example
   * ```ts
   * await app.to('lobby').send('notice', { text: 'hi' }, { except: [senderId] })
   * ```
   */
  send(type: string, data: unknown, options?: SendOptions): Promise<void> {
    const frame = encodeDelivery(type, data, Date.now())
    const more = options?.except
    if (more === undefined) return this.delivery.deliverToRooms(this.rooms, frame, this.excluded)
    return this.delivery.deliverToRooms(this.rooms, frame, this.excluded.concat(more))
  }
}
