/**
 * The integer request ids one connection sent within the dedup window (PROTOCOL.md
 * section 5 scopes them to the connection), kept on the connection itself: a ring of
 * slots plus a `Map` from id to slot, so a request costs one lookup and three array
 * writes, with no string key and no node-wide map to rebuild. A connection that never
 * sends an integer id has none.
 *
 * Memory: a ring starts at 8 slots and doubles only when the slot it would overwrite is
 * still within the window, up to `MAX_SLOTS`, and only while the node-wide
 * {@link SlotBudget} (`dedup.max_entries`) allows; past either bound the oldest id is
 * forgotten first, as the node-wide string map does.
 */
import type { DedupOutcome } from '../../lib/cluster/state.js'

const FIRST_SLOTS = 8
/** One connection remembers at most this many ids (60 s at 68 requests/s by default). */
export const MAX_SLOTS = 4096

/** The slots every ring of a node holds together, bounded by `dedup.max_entries`. */
export interface SlotBudget {
  used: number
  readonly max: number
}

/**
 * @example
 * ```ts
 * const budget = { used: 0, max: 100_000 }
 * const ids = new RecentIds(budget)
 * ids.claim(1, Date.now(), 60_000)   // null: first time (remembered as ok until settled)
 * ids.settle(1, { ok: false, code: 3000, message: 'gone' })
 * ```
 */
export class RecentIds {
  private ids: number[]
  private at: number[]
  private outcomes: DedupOutcome[]
  private readonly slots = new Map<number, number>()
  private head = 0

  constructor(
    private readonly budget: SlotBudget,
    private readonly unsettled: DedupOutcome = { ok: true },
  ) {
    this.ids = new Array<number>(FIRST_SLOTS).fill(0)
    this.at = new Array<number>(FIRST_SLOTS).fill(0)
    this.outcomes = new Array<DedupOutcome>(FIRST_SLOTS).fill(unsettled)
    budget.used += FIRST_SLOTS
  }

  /** Slots held (what this ring counts against the budget). */
  get capacity(): number {
    return this.ids.length
  }

  /** The earlier outcome of an id seen within the window, or null (and the id is remembered, as `unsettled` until settled). */
  claim(id: number, now: number, windowMs: number): DedupOutcome | null {
    const slot = this.slots.get(id)
    if (slot !== undefined && now - this.at[slot]! < windowMs) return this.outcomes[slot]!
    let head = this.head
    const evicted = this.ids[head]!
    if (evicted !== 0) {
      if (now - this.at[head]! < windowMs && this.grow()) head = this.head
      else if (this.slots.get(evicted) === head) this.slots.delete(evicted)
    }
    this.ids[head] = id
    this.at[head] = now
    this.outcomes[head] = this.unsettled
    this.slots.set(id, head)
    this.head = head + 1 === this.ids.length ? 0 : head + 1
    return null
  }

  /** Records how the request of an id ended (kept only while the id is remembered). */
  settle(id: number, outcome: DedupOutcome): void {
    const slot = this.slots.get(id)
    if (slot !== undefined) this.outcomes[slot] = outcome
  }

  /** Gives the ring's slots back to the budget (the connection closed). */
  release(): void {
    this.budget.used -= this.ids.length
  }

  // Doubles the ring, oldest first, leaving `head` on the first free slot.
  private grow(): boolean {
    const size = this.ids.length
    if (size >= MAX_SLOTS || this.budget.used + size > this.budget.max) return false
    const order = [...this.ids.keys()].map((i) => (this.head + i) % size)
    this.ids = order.map((i) => this.ids[i]!).concat(new Array<number>(size).fill(0))
    this.at = order.map((i) => this.at[i]!).concat(new Array<number>(size).fill(0))
    this.outcomes = order.map((i) => this.outcomes[i]!).concat(new Array<DedupOutcome>(size).fill(this.unsettled))
    this.slots.clear()
    for (let i = 0; i < size; i++) this.slots.set(this.ids[i]!, i)
    this.head = size
    this.budget.used += size
    return true
  }
}
