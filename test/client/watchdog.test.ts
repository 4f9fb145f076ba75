import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Watchdog, defaultMargin, type Clock } from '../../lib/client/watchdog.js'

/** A clock the test moves by hand; the interval callback is run by `check()` directly. */
function fakeClock(): Clock & { t: number } {
  return { t: 1000, now() { return this.t }, setInterval: () => 1, clearInterval: () => {} }
}

function watch(pingsVisible: boolean) {
  const clock = fakeClock()
  const log: string[] = []
  const dog = new Watchdog(() => log.push('dead'), () => log.push('ping'), clock)
  dog.start(1000, 500, pingsVisible)
  return { clock, log, dog }
}

describe('Watchdog', () => {
  it('declares the server dead after heartbeat_ms plus the margin of silence', () => {
    const { clock, log, dog } = watch(true)
    clock.t += 1500
    dog.check()
    assert.deepEqual(log, [])
    clock.t += 1
    dog.check()
    assert.deepEqual(log, ['dead'])
  })

  it('counts any frame or ping as a sign of life', () => {
    const { clock, log, dog } = watch(true)
    clock.t += 1400
    dog.touch()
    clock.t += 1400
    dog.check()
    assert.deepEqual(log, [])
  })

  it('sends no application ping where the transport shows the server pings', () => {
    const { clock, log, dog } = watch(true)
    clock.t += 900
    dog.check()
    assert.deepEqual(log, [])
  })

  it('sends one application ping per quiet spell where pings are invisible', () => {
    const { clock, log, dog } = watch(false)
    clock.t += 499
    dog.check()
    assert.deepEqual(log, [])
    clock.t += 1
    dog.check()
    clock.t += 100
    dog.check()
    assert.deepEqual(log, ['ping'])
    dog.touch()
    clock.t += 500
    dog.check()
    assert.deepEqual(log, ['ping', 'ping'])
  })

  it('stops checking once stopped', () => {
    const { clock, log, dog } = watch(true)
    dog.stop()
    clock.t += 10_000
    dog.check()
    assert.deepEqual(log, [])
  })
})

describe('defaultMargin', () => {
  it('is half the heartbeat interval, at most 10 s', () => {
    assert.equal(defaultMargin(1000), 500)
    assert.equal(defaultMargin(60_000), 10_000)
  })
})
