import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { startNode, type TestNode, startMemoryPair } from '../support/node.js'
import { refusal } from '../support/handshake.js'
import { hs256, SECRET } from '../support/tokens.js'
import { createApp } from '../../lib/application.js'
import { metrics } from '../../middleware/metrics/index.js'
import { closeClass } from '../../middleware/metrics/collectors.js'

async function scrape(node: TestNode): Promise<string> {
  const res = await fetch(`${node.http}/metrics`)
  assert.equal(res.status, 200)
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/)
  return res.text()
}

/** The value of one series, e.g. `wshub_errors_total{code="1006"}`; 0 when absent. */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.slice(series.length + 1))
}

function promtool(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' })
  return found.status === 0 ? found.stdout.trim() : null
}

function checkMetrics(path: string, text: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, ['check', 'metrics'])
    let output = ''
    child.stdout.on('data', (c) => (output += c))
    child.stderr.on('data', (c) => (output += c))
    child.on('error', reject)
    child.on('exit', (code) => resolve({ code, output }))
    child.stdin.end(text)
  })
}

describe('metrics', () => {
  let node: TestNode
  before(async () => {
    node = await startNode({ auth: { secret: SECRET }, rate_limit: { per_connection: { rate: 1, burst: 2 } } })
    node.app.route('close_then_reply', (ctx) => {
      ctx.client.close(4000, 'bye')
      ctx.reply('too_late', null)
    })
  })
  after(() => node.close())

  it('serves GET /metrics that passes promtool check metrics, after real traffic', async (t) => {
    const client = await node.connect()
    await client.request('join_room', { room_id: 'metered' })
    await client.request('no_such_type')
    await refusal(`${node.url}?token=garbage`)
    const tool = promtool()
    if (tool === null) {
      if (process.env.WSHUB_TEST_REQUIRE_SERVICES === '1') assert.fail('promtool is not installed (apt-get install prometheus) and WSHUB_TEST_REQUIRE_SERVICES=1')
      t.skip('promtool is not installed (apt-get install prometheus)')
      return
    }
    const text = await scrape(node)
    const result = await checkMetrics(tool, text)
    assert.equal(result.code, 0, result.output)
  })

  it('counts connections open, opened and closed by close code class', async () => {
    const before = await scrape(node)
    const client = await node.connect()
    const during = await scrape(node)
    assert.equal(value(during, 'wshub_connections'), value(before, 'wshub_connections') + 1)
    assert.equal(value(during, 'wshub_connections_opened_total'), value(before, 'wshub_connections_opened_total') + 1)
    client.socket.close(1000)
    await client.waitClose()
    await new Promise((r) => setTimeout(r, 50))
    const after = await scrape(node)
    assert.equal(value(after, 'wshub_connections_closed_total{code_class="normal"}'), value(before, 'wshub_connections_closed_total{code_class="normal"}') + 1)
  })

  it('counts frames in and out by message type, bytes, and the chain duration', async () => {
    const before = await scrape(node)
    const client = await node.connect()
    await client.request('ping')
    const after = await scrape(node)
    assert.equal(value(after, 'wshub_frames_received_total{type="ping"}'), value(before, 'wshub_frames_received_total{type="ping"}') + 1)
    assert.equal(value(after, 'wshub_frames_sent_total{type="pong"}'), value(before, 'wshub_frames_sent_total{type="pong"}') + 1)
    assert.equal(value(after, 'wshub_frames_sent_total{type="welcome"}'), value(before, 'wshub_frames_sent_total{type="welcome"}') + 1)
    assert.ok(value(after, 'wshub_received_bytes_total') > value(before, 'wshub_received_bytes_total'))
    assert.ok(value(after, 'wshub_sent_bytes_total') > value(before, 'wshub_sent_bytes_total'))
    assert.equal(value(after, 'wshub_handler_duration_seconds_count{type="ping"}'), value(before, 'wshub_handler_duration_seconds_count{type="ping"}') + 1)
  })

  it('labels message types no route handles as other', async () => {
    const before = await scrape(node)
    const client = await node.connect()
    await client.request('made_up_type_1')
    await client.request('made_up_type_2')
    const after = await scrape(node)
    assert.equal(value(after, 'wshub_frames_received_total{type="other"}'), value(before, 'wshub_frames_received_total{type="other"}') + 2)
    assert.doesNotMatch(after, /made_up_type/)
  })

  it('counts errors by code, envelope errors included', async () => {
    const before = await scrape(node)
    const client = await node.connect()
    await client.request('no_such_type')
    client.send('not json')
    await client.next('error')
    const after = await scrape(node)
    assert.equal(value(after, 'wshub_errors_total{code="1006"}'), value(before, 'wshub_errors_total{code="1006"}') + 1)
    assert.equal(value(after, 'wshub_errors_total{code="1001"}'), value(before, 'wshub_errors_total{code="1001"}') + 1)
    assert.equal(value(after, 'wshub_frames_received_total{type="invalid"}'), value(before, 'wshub_frames_received_total{type="invalid"}') + 1)
  })

  it('counts rooms and room members of this node', async () => {
    const before = await scrape(node)
    const a = await node.connect()
    const b = await node.connect()
    await a.request('join_room', { room_id: 'gauge-room' })
    await b.request('join_room', { room_id: 'gauge-room' })
    const after = await scrape(node)
    assert.equal(value(after, 'wshub_rooms'), value(before, 'wshub_rooms') + 1)
    assert.equal(value(after, 'wshub_room_members'), value(before, 'wshub_room_members') + 2)
  })

  it('counts rate-limit and auth refusals', async () => {
    const before = await scrape(node)
    const client = await node.connect()
    for (let i = 0; i < 3; i++) await client.request('ping')
    await refusal(`${node.url}?token=${hs256({ sub: 'x' }, 'wrong-secret')}`)
    const after = await scrape(node)
    assert.equal(value(after, 'wshub_rate_limited_total{scope="connection"}'), value(before, 'wshub_rate_limited_total{scope="connection"}') + 1)
    assert.equal(value(after, 'wshub_auth_rejected_total{code="2003",stage="handshake"}'), value(before, 'wshub_auth_rejected_total{code="2003",stage="handshake"}') + 1)
  })

  it('counts sends to a connection that was already closing', async () => {
    const before = await scrape(node)
    const client = await node.connect()
    client.send({ message_type: 'close_then_reply' })
    await client.waitClose()
    const after = await scrape(node)
    assert.ok(value(after, 'wshub_sends_dropped_total') >= value(before, 'wshub_sends_dropped_total') + 1)
  })

  it('counts slow consumers from the slow_consumer event', async () => {
    const before = await scrape(node)
    const client = await node.connect()
    node.app.emit('slow_consumer', node.app.server.connections.get(client.id)!)
    const after = await scrape(node)
    assert.equal(value(after, 'wshub_slow_consumers_total'), value(before, 'wshub_slow_consumers_total') + 1)
  })

  it('includes Node\'s default metrics', async () => {
    assert.match(await scrape(node), /^process_cpu_user_seconds_total /m)
  })
})

describe('metrics of the cluster and heartbeats', () => {
  it('counts bus envelopes published and received', async () => {
    const [a, b] = await startMemoryPair({})
    try {
      const sender = await a.connect()
      const receiver = await b.connect()
      await sender.request('join_room', { room_id: 'bus-room' })
      await receiver.request('join_room', { room_id: 'bus-room' })
      await sender.request('room_message', { room_id: 'bus-room', content: 'x' })
      await receiver.next('room_message')
      assert.ok(value(await scrape(a), 'wshub_bus_published_total') >= 1)
      assert.equal(value(await scrape(b), 'wshub_bus_received_total'), 1)
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('observes the bus lag of envelopes from other nodes, in seconds', async () => {
    const [a, b] = await startMemoryPair({})
    try {
      const sender = await a.connect()
      const receiver = await b.connect()
      await sender.request('join_room', { room_id: 'lag-room' })
      await receiver.request('join_room', { room_id: 'lag-room' })
      await sender.request('room_message', { room_id: 'lag-room', content: 'x' })
      await receiver.next('room_message')
      const text = await scrape(b)
      assert.match(text, /# TYPE wshub_bus_lag_seconds histogram/)
      assert.equal(value(text, 'wshub_bus_lag_seconds_count'), 1)
      assert.equal(value(text, 'wshub_bus_lag_seconds_bucket{le="+Inf"}'), 1)
      // In seconds: one envelope within one process takes well under 5 of them.
      assert.ok(value(text, 'wshub_bus_lag_seconds_sum') < 5)
      assert.equal(value(text, 'wshub_bus_lag_seconds_bucket{le="5"}'), 1)
    } finally {
      await a.close()
      await b.close()
    }
  })

  it('says whether the bus is up as a 1/0 gauge', async () => {
    const node = await startNode()
    try {
      assert.match(await scrape(node), /^wshub_bus_up 1$/m)
      await node.app.bus.close()
      assert.match(await scrape(node), /^wshub_bus_up 0$/m)
    } finally {
      await node.close()
    }
  })

  it('exports every label value known in advance at 0 before anything happened, so rate() reads 0 rather than no data', async () => {
    const node = await startNode()
    try {
      const text = await scrape(node)
      for (const series of [
        'wshub_rate_limited_total{scope="connection"}',
        'wshub_rate_limited_total{scope="user"}',
        'wshub_connections_closed_total{code_class="normal"}',
        'wshub_connections_closed_total{code_class="kicked"}',
        'wshub_errors_total{code="1005"}',
        'wshub_errors_total{code="3002"}',
        'wshub_http_refused_total{status="431"}',
        'wshub_auth_rejected_total{code="2003",stage="handshake"}',
      ]) {
        assert.ok(text.split('\n').includes(`${series} 0`), series)
      }
    } finally {
      await node.close()
    }
  })

  it('counts envelopes that could not cross the bus', async () => {
    const node = await startNode()
    try {
      const client = await node.connect()
      await client.request('join_room', { room_id: 'cut-off' })
      await node.app.bus.close()
      assert.equal((await client.request('room_message', { room_id: 'cut-off', content: 'x' })).message_type, 'ack')
      assert.ok(value(await scrape(node), 'wshub_bus_errors_total') >= 1)
    } finally {
      await node.close()
    }
  })

  it('counts room messages the history could not record', async () => {
    const node = await startNode({ rooms: { history_size: 10 } })
    try {
      const client = await node.connect()
      await client.request('join_room', { room_id: 'unrecorded' })
      await node.app.state.deleteRoom('unrecorded') // as a state that came back empty
      assert.equal((await client.request('room_message', { room_id: 'unrecorded', content: 'x' })).message_type, 'ack')
      assert.equal(value(await scrape(node), 'wshub_history_missed_total'), 1)
    } finally {
      await node.close()
    }
  })

  it('counts heartbeats missed', async () => {
    const node = await startNode({ heartbeat: { interval_ms: 100, timeout_ms: 50 } })
    try {
      const client = await node.connect()
      client.socket.pause()
      for (let i = 0; i < 100 && node.app.server.size > 0; i++) await new Promise((r) => setTimeout(r, 20))
      assert.equal(value(await scrape(node), 'wshub_heartbeats_missed_total'), 1)
    } finally {
      await node.close()
    }
  })

  it('keeps one registry per app', async () => {
    const a = await startNode()
    const b = await startNode()
    try {
      await a.connect()
      assert.equal(value(await scrape(a), 'wshub_connections_opened_total'), 1)
      assert.equal(value(await scrape(b), 'wshub_connections_opened_total'), 0)
    } finally {
      await a.close()
      await b.close()
    }
  })
})

describe('metrics()', () => {
  it('returns a middleware named metrics whose registry is set by use()', () => {
    const m = metrics({ defaultMetrics: false })
    assert.equal(m.name, 'metrics')
    assert.equal(m.registry, null)
    createApp({}, { defaults: false }).use(m)
    assert.ok(m.registry !== null)
  })

  it('refuses a prefix that is not a metric name', () => {
    assert.throws(() => metrics({ prefix: 'bad-prefix' }), /prefix/)
  })

  it('refuses to serve a second app', () => {
    const m = metrics({ defaultMetrics: false })
    createApp({}, { defaults: false }).use(m)
    assert.throws(() => createApp({}, { defaults: false }).use(m), /one app/)
  })

  it('serves its own path and prefix when used on its own', async () => {
    const node = await startNode({}, { defaults: false })
    try {
      node.app.use(metrics({ path: '/custom-metrics', prefix: 'chat_', defaultMetrics: false }))
      await node.connect()
      const text = await (await fetch(`${node.http}/custom-metrics`)).text()
      assert.equal(value(text, 'chat_connections'), 1)
      assert.equal((await fetch(`${node.http}/metrics`)).status, 404)
    } finally {
      await node.close()
    }
  })
})

describe('closeClass', () => {
  it('groups close codes into a few classes', () => {
    assert.deepEqual([1000, 1001, 1006, 1008, 1009, 1011, 4000, 4001, 4321].map(closeClass), [
      'normal', 'normal', 'abnormal', 'policy', 'protocol', 'server', 'kicked', 'token_expired', 'application',
    ])
  })
})
