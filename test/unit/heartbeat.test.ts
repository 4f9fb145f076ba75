import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Heartbeat } from '../../lib/heartbeat.js'
import type { Connection } from '../../lib/connection.js'

interface Fake {
  id: string
  alive: boolean
  silentSince: number
  closeInfo: { code: number; reason: string } | null
  pings: number
  socket: { ping(): void }
}

function connections(n: number): Map<string, Connection> {
  const map = new Map<string, Connection>()
  for (let i = 0; i < n; i++) {
    const fake: Fake = { id: `c${i}`, alive: true, silentSince: 0, closeInfo: null, pings: 0, socket: { ping: () => fake.pings++ } }
    map.set(fake.id, fake as unknown as Connection)
  }
  return map
}
const fakes = (map: Map<string, Connection>) => [...map.values()] as unknown as Fake[]

/** A heartbeat whose clock the test drives, started at 0. */
function heartbeat(map: Map<string, Connection>, intervalMs: number, timeoutMs: number, missed: string[] = []): Heartbeat {
  const hb = new Heartbeat(map, intervalMs, timeoutMs, (conn) => {
    missed.push(conn.id)
    conn.closeInfo = { code: 1006, reason: 'heartbeat timeout' }
  })
  ;(hb as unknown as { roundStart: number }).roundStart = 0
  return hb
}

describe('Heartbeat.tick', () => {
  it('pings every connection once per interval, a slice per tick rather than all at once', () => {
    const map = connections(3000)
    const hb = heartbeat(map, 30_000, 10_000)
    const perTick: number[] = []
    let total = 0
    for (let now = 30_000; now < 60_000; now += 100) {
      hb.tick(now)
      const sum = fakes(map).reduce((n, c) => n + c.pings, 0)
      perTick.push(sum - total)
      total = sum
      for (const c of fakes(map)) c.alive = true
    }
    assert.ok(fakes(map).every((c) => c.pings === 1), 'each pinged once in the round')
    assert.ok(Math.max(...perTick) <= 20, `largest slice ${Math.max(...perTick)}`)
  })

  it('drops a connection that answered nothing within the timeout after a ping', () => {
    const map = connections(10)
    const missed: string[] = []
    const hb = heartbeat(map, 1000, 500, missed)
    for (let now = 1000; now <= 2500; now += 100) hb.tick(now)
    assert.deepEqual(missed.sort(), fakes(map).map((c) => c.id).sort())
  })

  it('keeps a connection from which something arrived after each ping', () => {
    const map = connections(10)
    const missed: string[] = []
    const hb = heartbeat(map, 1000, 500, missed)
    for (let now = 1000; now <= 5000; now += 100) {
      hb.tick(now)
      for (const c of fakes(map)) c.alive = true
    }
    assert.deepEqual(missed, [])
  })

  it('measures silence from the first unanswered ping when the timeout is longer than the interval', () => {
    const map = connections(1)
    const missed: string[] = []
    const hb = heartbeat(map, 100, 1000, missed)
    let droppedAt = -1
    for (let now = 100; now <= 3000 && droppedAt === -1; now += 100) {
      hb.tick(now)
      if (missed.length > 0) droppedAt = now
    }
    assert.equal(droppedAt, 1100)
  })

  it('pings a connection that came during a round before the round ends', () => {
    const map = connections(100)
    const hb = heartbeat(map, 1000, 500)
    hb.tick(1000)
    const late = connections(1).get('c0')! as unknown as Fake
    map.set('late', late as unknown as Connection)
    for (let now = 1100; now < 2000; now += 100) hb.tick(now)
    assert.equal(late.pings, 1)
  })
  it('spreads connections that came during a round over its remaining ticks', () => {
    const map = connections(100)
    const hb = heartbeat(map, 1000, 500)
    hb.tick(1000)
    const late = connections(2000)
    for (const [id, conn] of late) map.set(`late-${id}`, conn)
    const perTick: number[] = []
    let total = fakes(map).reduce((n, c) => n + c.pings, 0)
    for (let now = 1100; now < 2000; now += 100) {
      hb.tick(now)
      const sum = fakes(map).reduce((n, c) => n + c.pings, 0)
      perTick.push(sum - total)
      total = sum
    }
    assert.ok(fakes(map).every((c) => c.pings === 1), 'each pinged once in the round')
    assert.ok(Math.max(...perTick) <= 2100 / 5, `largest slice ${Math.max(...perTick)} of ${perTick.join(',')}`)
  })
})
