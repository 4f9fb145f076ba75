/**
 * `GET /api/stats/stream` over real HTTP: Server-Sent Events carrying the figures of
 * `GET /api/stats`, one per interval, following the cluster as it changes.
 */
import { describe, it, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { startMemoryPair, startNode, type TestNode } from '../support/node.js'
import { callApi } from '../support/http.js'
import { hs256, nowSeconds, SECRET } from '../support/tokens.js'
import { resolveConfig } from '../../lib/config.js'

const TOKEN = 'stats-stream-token'

/** Reads SSE events from a streamed response until `until` says stop. */
async function readEvents(res: Response, until: (events: Array<{ event: string; data: any }>) => boolean) {
  const events: Array<{ event: string; data: any }> = []
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  while (!until(events)) {
    const { value, done } = await reader.read()
    if (done) break
    buffer += value
    let end
    while ((end = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, end)
      buffer = buffer.slice(end + 2)
      const event = /^event: (.*)$/m.exec(block)?.[1]
      const data = /^data: (.*)$/m.exec(block)?.[1]
      if (event !== undefined) events.push({ event, data: data === undefined ? null : JSON.parse(data) })
    }
  }
  await reader.cancel()
  return events
}

describe('GET /api/stats/stream', () => {
  let a: TestNode
  let b: TestNode
  beforeEach(async () => ([a, b] = await startMemoryPair({ http: { admin_token: TOKEN } })))
  afterEach(async () => {
    await a.close()
    await b.close()
  })

  it('sends stats events with every node, its bus, uptime and frame counters, and follows new clients', async () => {
    const controller = new AbortController()
    const res = await fetch(`${a.http}/api/stats/stream?interval_ms=250`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: controller.signal })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    let pinged: Promise<unknown> | null = null
    const events = await readEvents(res, (events) => {
      // A client on the other node, once the first event is in (awaited below: the stream can
      // show it before its ping is answered, and the node must not close under that request).
      if (events.length === 1 && pinged === null) pinged = b.connect().then((client) => client.request('ping'))
      return events.some((e) => e.data.clients.cluster === 1 && e.data.clients.local === 0)
    })
    controller.abort()
    await pinged
    const first = events[0]!
    assert.equal(first.event, 'stats')
    assert.equal(first.data.node_id, a.app.nodeId)
    assert.deepEqual(first.data.nodes.map((n: { node_id: string }) => n.node_id).sort(), [a.app.nodeId, b.app.nodeId].sort())
    const self = first.data.nodes.find((n: { node_id: string }) => n.node_id === a.app.nodeId)
    assert.equal(self.bus, 'up')
    assert.equal(self.seen_at, first.data.time)
    assert.ok(Number.isInteger(self.uptime_s) && self.uptime_s >= 0)
    assert.ok(Number.isInteger(self.frames_in) && Number.isInteger(self.frames_out))
    assert.ok(events.length >= 2, 'more than one event')
  })

  it('counts this node\'s frames in and out as they happen', async () => {
    const client = await a.connect()
    for (let i = 0; i < 3; i++) await client.request('ping')
    const res = await callApi(a.http, '/api/stats', { token: TOKEN })
    const self = res.body.nodes.find((n: { node_id: string }) => n.node_id === a.app.nodeId)
    assert.equal(self.frames_in, 3)
    // welcome + three pongs
    assert.equal(self.frames_out, 4)
  })

  it('refuses an interval outside 250..60000 ms with 400, and a request without credentials with 401', async () => {
    for (const interval of ['100', '60001', 'soon', '']) {
      const res = await callApi(a.http, `/api/stats/stream?interval_ms=${interval}`, { token: TOKEN })
      assert.equal(res.status, 400, interval)
      assert.match(res.body.message, /interval_ms/)
    }
    assert.equal((await callApi(a.http, '/api/stats/stream')).status, 401)
  })

  it('lets the node close while a stream is open: the stream ends rather than holding the close', { timeout: 10_000 }, async () => {
    const reader = (await fetch(`${a.http}/api/stats/stream`, { headers: { authorization: `Bearer ${TOKEN}` } })).body!.getReader()
    await reader.read()
    await a.close()
    let ended = false
    while (!ended) ended = (await reader.read().catch(() => ({ done: true }))).done
    assert.ok(ended)
  })
})

describe('GET /api/stats/stream with a JWT', () => {
  let node: TestNode
  beforeEach(async () => (node = await startNode({ auth: { secret: SECRET } })))
  afterEach(() => node.close())

  const open = (token: string) => fetch(`${node.http}/api/stats/stream?interval_ms=250`, { headers: { authorization: `Bearer ${token}` } })

  it('ends with an unauthorized event once the JWT has expired, rather than streaming on', { timeout: 10_000 }, async () => {
    const res = await open(hs256({ sub: 'ops', permissions: ['admin:system'], exp: nowSeconds() + 1 }))
    assert.equal(res.status, 200)
    const events = await readEvents(res, () => false)
    assert.equal(events[0]!.event, 'stats')
    assert.deepEqual(events.at(-1), { event: 'unauthorized', data: { code: 2002, message: 'the token has expired' } })
    assert.equal(events.filter((e) => e.event === 'unauthorized').length, 1)
  })

  it('ends with an unauthorized event once a reload has rotated the JWT key out', { timeout: 10_000 }, async () => {
    const res = await open(hs256({ sub: 'ops', permissions: ['admin:system'] }))
    const events = await readEvents(res, (seen) => {
      if (seen.length === 1) node.app.reload(resolveConfig({ http: { host: '127.0.0.1', port: 0 }, auth: { secret: 'another-secret-of-at-least-32-bytes', rotation_grace_ms: 0 } }))
      return seen.at(-1)?.event === 'unauthorized'
    })
    assert.equal(events[0]!.event, 'stats')
    assert.equal(events.at(-1)!.data.code, 2003)
  })
})
