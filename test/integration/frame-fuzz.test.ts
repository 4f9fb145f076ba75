import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { startNode, type TestNode } from '../support/node.js'
import { runMutationFuzz, type FuzzRunReport } from '../support/fuzz-run.js'
import { Bystander, FuzzSession, exposeGc, probeClose, settledHeap } from '../support/fuzz-driver.js'
import { encodeArbitrary, expectationOf, frameArbitrary } from '../support/fuzz-frames.js'
import { eventually, sleep } from '../support/expect.js'

// The fuzz node takes frames as fast as they come (the rate limiter has its own tests), and
// forgets request ids after a second, so that its heap can be compared with the start.
const DEDUP_WINDOW_MS = 1000
const FUZZ_CONFIG = { rate_limit: { per_connection: { rate: 1_000_000, burst: 1_000_000 } }, dedup: { window_ms: DEDUP_WINDOW_MS } }
const MUTATED_FRAMES = 50_000
const PROPERTY_RUNS = 150

describe('the frame path under mutation fuzzing', () => {
  let node: TestNode
  let fuzz: FuzzRunReport
  let bystander: Awaited<ReturnType<Bystander['stop']>>
  let heapGrowthMb: number

  before(async () => {
    const gc = await exposeGc()
    node = await startNode(FUZZ_CONFIG)
    const talking = await Bystander.start(node.url)
    const baseline = await settledHeap(gc)
    fuzz = await runMutationFuzz({ url: node.url, frames: MUTATED_FRAMES, seed: 20261121 })
    await eventually(() => node.app.server.size === 2 && node.app.inFlight === 0, 10_000, 'every fuzz connection closed on the node')
    // The bystander's requests rotate the dedup generations out while it goes on talking.
    await sleep(2.5 * DEDUP_WINDOW_MS)
    bystander = await talking.stop()
    heapGrowthMb = ((await settledHeap(gc)) - baseline) / 2 ** 20
  })
  after(() => node.close())

  it(`answers ${MUTATED_FRAMES} mutated frames as PROTOCOL.md says, without a crash or a hang`, () => {
    assert.deepEqual(fuzz.failures.slice(0, 5), [])
    assert.ok(fuzz.frames >= MUTATED_FRAMES - 1, `only ${fuzz.frames} frames were sent`)
  })

  it('closes the connection with 1007 on invalid UTF-8 and 1009 on oversize frames among them', () => {
    assert.ok(fuzz.probes[1007] > 0 && fuzz.probes[1009] > 0, `close probes: ${JSON.stringify(fuzz.probes)}`)
  })

  it('keeps delivering room messages and pongs to a bystander the whole time', () => {
    assert.ok(bystander.sent > 0)
    assert.deepEqual(
      { delivered: bystander.delivered, inOrder: bystander.inOrder, acks: bystander.acks, pongs: bystander.pongs, open: bystander.open },
      { delivered: bystander.sent, inOrder: true, acks: bystander.sent, pongs: bystander.pings, open: true },
    )
  })

  it('returns to its baseline heap once the fuzzing clients are gone', () => {
    assert.ok(heapGrowthMb < 32, `heap grew by ${heapGrowthMb.toFixed(1)} MB after the fuzz`)
  })

  it('lets nothing a client sent reach Object.prototype', () => {
    assert.equal(Object.getOwnPropertyNames(Object.prototype).includes('polluted'), false)
    assert.equal(({} as { polluted?: unknown }).polluted, undefined)
  })
})

describe('the frame path under property-based fuzzing', () => {
  let node: TestNode
  before(async () => (node = await startNode(FUZZ_CONFIG)))
  after(() => node.close())

  it('answers any frame (any field of any type, any text, any bytes) with exactly one terminal reply per valid message_id', async () => {
    const session = await FuzzSession.open(node.url)
    let ints = 0
    let strings = 0
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(frameArbitrary, { maxLength: 40 }), async (generated) => {
          const frames = generated.map((g) => encodeArbitrary(g, () => 1_000_000 + ++ints, () => `p-${++strings}`))
          const open = frames.filter((f) => expectationOf(f, 65536).kind !== 'close')
          if (!(await session.runBatch(open, 65536))) throw new Error(JSON.stringify(session.failures.slice(0, 3)))
        }),
        { numRuns: PROPERTY_RUNS, seed: 7, endOnFailure: true },
      )
    } finally {
      session.close()
    }
  })

  it('closes with 1007 on a text frame holding a lone surrogate as raw bytes', async () => {
    const bytes = Buffer.concat([Buffer.from('{"message_type":"ping","data":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])
    assert.equal(await probeClose(node.url, { bytes, binary: false }), 1007)
  })

  it('answers a lone surrogate written as a JSON escape like any other string', async () => {
    const session = await FuzzSession.open(node.url)
    const frame = { bytes: Buffer.from('{"message_type":"ping","data":{"ts":"\\ud800"},"message_id":"\\udfff"}'), binary: false }
    assert.equal(await session.runBatch([frame], 65536), true, JSON.stringify(session.failures))
    session.close()
  })
})
