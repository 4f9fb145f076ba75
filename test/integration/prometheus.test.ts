/**
 * Prometheus and Grafana for real: Debian's `prometheus`, started on a free port with
 * configs/prometheus.yml (its targets replaced by two wshub nodes joined by a real Redis,
 * its scrape interval cut to 1 s), scrapes the nodes under a little traffic; then every
 * expression of every panel of configs/grafana/wshub.json is asked of Prometheus's HTTP
 * API and must answer data, and the ones the traffic drives must answer what it did.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import yaml from 'js-yaml'
import jwt from 'jsonwebtoken'
import { createApp, type Application } from '../../lib/application.js'
import { startRedis, skipUnless, testPrefix, type Service } from '../support/services.js'
import { Prometheus, skipUnlessPrometheus, type Sample } from '../support/prometheus.js'
import { testLogger } from '../support/node.js'
import { TestClient } from '../support/ws-client.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const skip = skipUnlessPrometheus() || skipUnless('redis')
const SECRET = 'prometheus-test-secret'

interface Panel {
  id: number
  type: string
  title: string
  datasource?: { uid: string }
  targets?: Array<{ expr: string; refId: string }>
  /** A collapsed row keeps its panels here rather than after it. */
  panels?: Panel[]
}
const dashboard = JSON.parse(readFileSync(`${root}configs/grafana/wshub.json`, 'utf8')) as { uid: string; panels: Panel[]; templating: { list: Array<{ name: string }> } }
const prometheusConfig = yaml.load(readFileSync(`${root}configs/prometheus.yml`, 'utf8')) as {
  global: Record<string, string>
  scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[]; labels?: Record<string, string> }> }>
}
// Every panel, those inside collapsed rows too: none escapes the queries below.
const allPanels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])])
const panels = allPanels.filter((p) => p.type !== 'row')

/** A panel expression as Grafana would send it, with the dashboard's variables filled in. */
function expand(expr: string): string {
  return expr.replaceAll('$__rate_interval', '5s').replaceAll('$job', 'wshub').replaceAll('$instance', '.+')
}

describe('configs/grafana/wshub.json and configs/prometheus.yml', () => {
  it('has a panel with a Prometheus expression for every figure an operator needs', () => {
    const exprs = panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n')
    for (const metric of [
      'wshub_connections', 'wshub_frames_received_total', 'wshub_frames_sent_total', 'wshub_errors_total', 'wshub_handler_duration_seconds_bucket',
      'wshub_bus_up', 'wshub_bus_lag_seconds_bucket', 'wshub_slow_consumers_total', 'wshub_rate_limited_total', 'wshub_history_missed_total',
    ]) {
      assert.ok(exprs.includes(metric), `no panel reads ${metric}`)
    }
    assert.match(exprs, /sum by \(type\) \(rate\(wshub_frames_received_total/)
    assert.match(exprs, /sum by \(code\) \(rate\(wshub_errors_total/)
  })

  it('gives every panel a unique id, the $datasource variable, and at least one expression', () => {
    assert.equal(new Set(allPanels.map((p) => p.id)).size, allPanels.length)
    assert.deepEqual(dashboard.templating.list.map((v) => v.name), ['datasource', 'job', 'instance'])
    for (const panel of panels) {
      assert.equal(panel.datasource?.uid, '${datasource}', panel.title)
      assert.ok((panel.targets ?? []).length > 0 && panel.targets!.every((t) => t.expr.length > 0), panel.title)
    }
  })

  it('reads every series of the chosen $job and $instance only (a Prometheus that scrapes other jobs too)', () => {
    for (const panel of panels) {
      for (const { expr, refId } of panel.targets!) {
        const selectors = [...expr.matchAll(/\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{[^}]*\})?/g)].filter(([, name]) => /^(wshub_|process_|nodejs_|up$)/.test(name!))
        assert.ok(selectors.length > 0, `${panel.title} / ${refId}: no metric read`)
        for (const [text] of selectors) {
          assert.match(text, /job="\$job"/, `${panel.title} / ${refId}: ${text} has no job="$job"`)
          assert.match(text, /instance=~"\$instance"/, `${panel.title} / ${refId}: ${text} has no instance=~"$instance"`)
        }
      }
    }
  })

  it('scrapes the three example nodes, on the ports their configs listen on, as job wshub', () => {
    const job = prometheusConfig.scrape_configs.find((c) => c.job_name === 'wshub')
    assert.ok(job)
    const ports = [1, 2, 3].map((i) => (yaml.load(readFileSync(`${root}configs/cluster-node${i}.yaml`, 'utf8')) as { http: { port: number } }).http.port)
    assert.deepEqual(job.static_configs.flatMap((s) => s.targets), ports.map((port) => `127.0.0.1:${port}`))
  })

  it('is a config promtool accepts', { skip: spawnSync('sh', ['-c', 'command -v promtool']).status === 0 ? false : 'promtool not installed: apt-get install -y prometheus' }, () => {
    const check = spawnSync('promtool', ['check', 'config', `${root}configs/prometheus.yml`], { encoding: 'utf8' })
    assert.equal(check.status, 0, check.stdout + check.stderr)
  })
})

describe('a real Prometheus scraping two wshub nodes', () => {
  let redis: Service | null = null
  let prometheus: Prometheus | null = null
  const nodes: Array<{ app: Application; target: string; ws: string }> = []
  const clients: TestClient[] = []
  let traffic: NodeJS.Timeout | null = null

  before(async () => {
    if (skip) return
    redis = await startRedis()
    const prefix = testPrefix()
    for (let i = 0; i < 2; i++) {
      const app = createApp(
        {
          http: { host: '127.0.0.1', port: 0 },
          cluster: { node_id: `prom-${i + 1}`, bus: 'redis', redis: { url: redis.url }, prefix },
          auth: { secret: SECRET },
          rooms: { history_size: 10 },
          // Low enough for the flooder below to be refused, never closed for it.
          rate_limit: { per_connection: { rate: 20, burst: 20 }, max_violations: 1_000_000 },
        },
        { logger: testLogger() },
      )
      const { port } = await app.listen()
      nodes.push({ app, target: `127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws` })
    }
    const config = structuredClone(prometheusConfig)
    config.global.scrape_interval = '1s'
    config.global.scrape_timeout = '1s'
    config.global.evaluation_interval = '1s'
    const job = config.scrape_configs.find((c) => c.job_name === 'wshub')!
    job.static_configs = [{ targets: nodes.map((n) => n.target), labels: { cluster: prefix } }]
    // A second job scraping the same nodes, as a Prometheus shared with another team's
    // job may: the dashboard must count each node once, for the $job it is set to.
    config.scrape_configs.push({ ...structuredClone(job), job_name: 'wshub-copy' })
    prometheus = await Prometheus.start(config)
  })

  after(async () => {
    if (traffic !== null) clearInterval(traffic)
    for (const client of clients) client.socket.terminate()
    await prometheus?.stop()
    for (const node of nodes) await node.app.close()
    await redis?.stop()
  })

  async function connect(node: number, user: string): Promise<TestClient> {
    const token = jwt.sign({ sub: user, permissions: ['join:room', 'leave:room', 'send:message', 'create:room'] }, SECRET, { expiresIn: '1h' })
    const client = await TestClient.connect(`${nodes[node]!.ws}?token=${token}`)
    clients.push(client)
    return client
  }

  /** Every panel expression, asked until each answers data (the first scrapes take a few seconds). */
  async function queryAll(): Promise<Map<string, Sample[]>> {
    const until = Date.now() + 60_000
    // A rate over 5 s needs the scrapes of those 5 s: wait for 4 of each node, all under traffic.
    while ((await prometheus!.query('count_over_time(up{job="wshub"}[5s]) >= 4')).length < 2) {
      if (Date.now() > until) assert.fail('prometheus did not scrape both nodes 4 times within 60 s')
      await new Promise((r) => setTimeout(r, 250))
    }
    for (;;) {
      const answers = new Map<string, Sample[]>()
      for (const panel of panels) for (const target of panel.targets!) answers.set(`${panel.title} / ${target.refId}`, await prometheus!.query(expand(target.expr)))
      const empty = [...answers].filter(([, result]) => result.length === 0).map(([name]) => name)
      if (empty.length === 0) return answers
      if (Date.now() > until) assert.fail(`no data after 60 s for: ${empty.join('; ')}`)
      await new Promise((r) => setTimeout(r, 1000))
    }
  }

  it('answers data for every panel expression of the Grafana dashboard, and what the traffic did', { skip, timeout: 120_000 }, async () => {
    // Traffic: a room across both nodes (bus envelopes, lag), pings, an unknown type (error
    // 1006), a flooder over its rate limit (1005), and a connection that comes and goes.
    const members = [await connect(0, 'alice'), await connect(0, 'bob'), await connect(1, 'carol'), await connect(1, 'dave')]
    for (const m of members) await m.request('join_room', { room_id: 'metrics' })
    const flooder = await connect(1, 'flooder')
    let tick = 0
    traffic = setInterval(() => {
      tick++
      members[tick % members.length]!.send({ message_type: 'room_message', data: { room_id: 'metrics', content: { tick } } })
      members[(tick + 1) % members.length]!.send({ message_type: 'ping' })
      if (tick % 4 === 0) members[0]!.send({ message_type: 'no_such_type' })
      for (let i = 0; i < 10; i++) flooder.send({ message_type: 'ping' })
      if (tick % 20 === 0) void connect(tick % 2, 'visitor').then((v) => v.socket.close(1000))
    }, 100)

    const answers = await queryAll()
    const one = async (expr: string) => {
      const result = await prometheus!.query(expand(expr))
      assert.equal(result.length, 1, `${expr}: ${JSON.stringify(result)}`)
      return Number(result[0]!.value[1])
    }
    // The panels read the $job they are set to, not the copy: at one instant, the same
    // figures as the job's own series.
    const at = Date.now() / 1000 - 2
    const only = async (expr: string) => (await prometheus!.query(expand(expr), at)).map((s) => Number(s.value[1]))
    const stat = (title: string) => panels.find((p) => p.title === title)!.targets![0]!.expr
    assert.deepEqual(await only(stat('Connections')), await only('sum(wshub_connections{job="wshub"})'))
    assert.deepEqual(await only(stat('Messages in /s')), await only('sum(rate(wshub_frames_received_total{job="wshub"}[5s]))'))
    assert.deepEqual(await only(stat('Nodes up')), [2])
    // Both nodes are scraped, and every series of every expression is a number (no NaN a panel would draw as a gap).
    assert.equal(await one('sum(up{job="$job",instance=~"$instance"})'), 2)
    for (const [name, result] of answers) {
      for (const sample of result) assert.ok(Number.isFinite(Number(sample.value[1])), `${name}: ${JSON.stringify(sample)}`)
    }
    // What the traffic did, as the panels' own expressions read it.
    const by = (title: string, refId = 'A') => answers.get(`${title} / ${refId}`)!
    assert.equal(await one('sum(wshub_connections{instance=~"$instance"})') >= 5, true)
    assert.deepEqual(by('Connections by node').map((s) => s.metric.instance).sort(), nodes.map((n) => n.target).sort())
    assert.deepEqual(by('Bus up by node').map((s) => s.value[1]), ['1', '1'])
    assert.ok(by('Messages in /s by type').some((s) => s.metric.type === 'room_message' && Number(s.value[1]) > 0))
    assert.ok(by('Messages out /s by type').some((s) => s.metric.type === 'room_message' && Number(s.value[1]) > 0))
    assert.ok(by('Errors /s by code').some((s) => s.metric.code === '1006'), JSON.stringify(by('Errors /s by code')))
    assert.ok(by('Errors /s by code').some((s) => s.metric.code === '1005'))
    assert.ok(by('Rate-limit refusals /s by scope').some((s) => s.metric.scope === 'connection' && Number(s.value[1]) > 0))
    const lag = by('Bus lag p50 / p99')
    assert.equal(lag.length, 1)
    assert.ok(Number(lag[0]!.value[1]) > 0 && Number(lag[0]!.value[1]) < 5, `bus lag p99 in seconds: ${lag[0]!.value[1]}`)
    const latency = by('Handler latency p50 / p99 by type').find((s) => s.metric.type === 'room_message')
    assert.ok(latency !== undefined && Number(latency.value[1]) > 0 && Number(latency.value[1]) < 5, `handler p99 in seconds: ${latency?.value[1]}`)
    assert.equal(by('Slow consumers cut off').length, 2)
    assert.equal(by('Bus errors and history misses /s', 'B').length, 2)
    // One series per node for the per-node panels: no label that multiplies them.
    assert.equal(by('Resident memory by node').length, 2)
  })

  it('stores every wshub metric with the type its name promises: counters end in _total, histograms and gauges do not', { skip, timeout: 30_000 }, async () => {
    // Whatever ran before: the metadata is there once both nodes were scraped.
    let data: Record<string, Array<{ type: string; unit: string }>> = {}
    let ours: Array<[string, Array<{ type: string; unit: string }>]> = []
    for (const until = Date.now() + 20_000; ours.length < 20 && Date.now() < until; await new Promise((r) => setTimeout(r, 250))) {
      data = ((await (await fetch(`${prometheus!.base}/api/v1/metadata`)).json()) as { data: typeof data }).data
      ours = Object.entries(data).filter(([name]) => name.startsWith('wshub_'))
    }
    assert.ok(ours.length >= 20, `metadata for ${ours.length} wshub metrics`)
    for (const [name, [meta]] of ours) {
      assert.equal(name.endsWith('_total'), meta!.type === 'counter', `${name} is a ${meta!.type}`)
      if (meta!.type === 'histogram') assert.match(name, /_seconds$/, `${name}: a histogram of durations is in seconds`)
    }
    assert.equal(data.wshub_bus_lag_seconds?.[0]?.type, 'histogram')
    assert.equal(data.wshub_handler_duration_seconds?.[0]?.type, 'histogram')
    assert.equal(data.wshub_bus_up?.[0]?.type, 'gauge')
    // Units in the name, where Prometheus wants them: bytes end in _bytes(_total).
    for (const [name] of ours) if (/bytes/.test(name)) assert.match(name, /_bytes(_total)?$/, name)
    // Labels: every label of every stored wshub series is one whose values are known in
    // advance or bounded (no client, user or room id), each with few values here.
    const series = ((await (await fetch(`${prometheus!.base}/api/v1/series?${new URLSearchParams({ 'match[]': '{__name__=~"wshub_.+"}' })}`)).json()) as { data: Array<Record<string, string>> }).data
    assert.ok(series.length > 0)
    const values = new Map<string, Set<string>>()
    for (const labels of series) for (const [label, value] of Object.entries(labels)) values.set(label, (values.get(label) ?? new Set()).add(value))
    const bounded = ['__name__', 'job', 'instance', 'cluster', 'le', 'type', 'code', 'code_class', 'scope', 'status', 'stage']
    for (const label of values.keys()) assert.ok(bounded.includes(label), `wshub series carry a label ${label}`)
    for (const label of ['type', 'code', 'code_class', 'scope', 'status', 'stage']) assert.ok(values.get(label)!.size <= 40, `${label}: ${values.get(label)!.size} values`)
    const ids = new Set(['metrics', 'alice', 'bob', 'carol', 'dave', 'flooder', 'visitor', ...clients.map((c) => c.id)])
    for (const [label, seen] of values) for (const value of seen) assert.ok(!ids.has(value), `${label}="${value}" is a client, user or room id`)
  })
})
