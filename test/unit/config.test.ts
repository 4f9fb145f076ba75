import { describe, it, afterEach, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ConfigError, describeConfig, loadConfig, resolveConfig } from '../../lib/config.js'

const PEM = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----'

let dir: string
const setEnv: string[] = []

function env(name: string, value: string): void {
  process.env[name] = value
  setEnv.push(name)
}

function file(name: string, text: string): string {
  const path = join(dir, name)
  writeFileSync(path, text)
  return path
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn()
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`)
    return err
  }
  assert.fail('the configuration was accepted')
}

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'wshub-config-'))
})
after(() => rmSync(dir, { recursive: true, force: true }))
afterEach(() => {
  for (const name of setEnv.splice(0)) delete process.env[name]
})

describe('resolveConfig', () => {
  it('gives the documented defaults', () => {
    const c = resolveConfig()
    assert.equal(c.http.port, 8080)
    assert.equal(c.http.host, '0.0.0.0')
    assert.equal(c.ws.path, '/ws')
    assert.equal(c.ws.max_payload, 65536)
    assert.deepEqual(c.ws.allowed_origins, [])
    assert.equal(c.heartbeat.interval_ms, 30000)
    assert.equal(c.heartbeat.timeout_ms, 10000)
    assert.deepEqual(c.auth.anonymous_permissions, ['join:room', 'leave:room', 'send:message', 'create:room'])
    assert.deepEqual(c.auth.algorithms, ['HS256'])
    assert.equal(c.rooms.auto_create, true)
    assert.equal(c.rooms.history_size, 0)
    assert.equal(c.cluster.bus, 'memory')
    assert.deepEqual(c.cluster.nats.servers, ['nats://127.0.0.1:4222'])
    assert.equal(c.log.level, 'info')
  })

  it('takes nested values given in code', () => {
    const c = resolveConfig({ ws: { max_connections: 5 }, rooms: { history_size: 10 } })
    assert.equal(c.ws.max_connections, 5)
    assert.equal(c.rooms.history_size, 10)
    assert.equal(c.ws.path, '/ws')
  })

  it('reads every key from its WSHUB_ variable', () => {
    env('WSHUB_HTTP_PORT', '9001')
    env('WSHUB_CLUSTER_REDIS_URL', 'redis://example:6380')
    env('WSHUB_ROOMS_AUTO_CREATE', 'false')
    env('WSHUB_RATE_LIMIT_PER_CONNECTION_BURST', '7')
    const c = resolveConfig()
    assert.equal(c.http.port, 9001)
    assert.equal(c.cluster.redis.url, 'redis://example:6380')
    assert.equal(c.rooms.auto_create, false)
    assert.equal(c.rate_limit.per_connection.burst, 7)
  })

  it('lets the environment win over values given in code', () => {
    env('WSHUB_WS_PATH', '/from-env')
    assert.equal(resolveConfig({ ws: { path: '/from-code' } }).ws.path, '/from-env')
  })

  it('splits lists in env vars on commas', () => {
    env('WSHUB_WS_ALLOWED_ORIGINS', 'https://a.example, https://b.example')
    env('WSHUB_AUTH_ANONYMOUS_PERMISSIONS', 'join:room,leave:room')
    const c = resolveConfig()
    assert.deepEqual(c.ws.allowed_origins, ['https://a.example', 'https://b.example'])
    assert.deepEqual(c.auth.anonymous_permissions, ['join:room', 'leave:room'])
  })

  it('turns \\n escapes of a PEM in an env var into newlines', () => {
    env('WSHUB_AUTH_PUBLIC_KEY', PEM.replace(/\n/g, '\\n'))
    assert.equal(resolveConfig().auth.public_key, PEM)
  })

  it('keeps real newlines of a PEM in an env var', () => {
    env('WSHUB_AUTH_PUBLIC_KEY', PEM)
    assert.equal(resolveConfig().auth.public_key, PEM)
  })

  it('names the key of a bad env value', () => {
    env('WSHUB_HTTP_PORT', '99999')
    assert.match(configError(() => resolveConfig()).message, /http\.port/)
  })

  it('names the key of a bad value given in code', () => {
    assert.match(configError(() => resolveConfig({ ws: { max_payload: 0 } })).message, /ws\.max_payload/)
    assert.match(configError(() => resolveConfig({ cluster: { bus: 'kafka' as never } })).message, /cluster\.bus/)
    assert.match(configError(() => resolveConfig({ auth: { public_key: 'not a pem' } })).message, /auth\.public_key/)
  })

  it('names the key of a non-numeric env value for a number key', () => {
    env('WSHUB_ROOMS_HISTORY_SIZE', 'lots')
    assert.match(configError(() => resolveConfig()).message, /rooms\.history_size/)
  })

  it('refuses a node id with a dot, naming the key', () => {
    assert.match(configError(() => resolveConfig({ cluster: { node_id: 'a.b' } })).message, /cluster\.node_id/)
  })

  it('refuses a ws.path that does not start with /, naming the key', () => {
    for (const path of ['noslash', '', '/with space', '/ws?x=1']) {
      assert.match(configError(() => resolveConfig({ ws: { path } })).message, /ws\.path/, path)
    }
    assert.equal(resolveConfig({ ws: { path: '/socket/v1' } }).ws.path, '/socket/v1')
  })

  it('refuses an http.host that is neither an IP address nor a host name, naming the key', () => {
    for (const host of ['not_a_host!', '', '256.1.1.1', '1.2.3', 'a..b', '-lead.example']) {
      env('WSHUB_HTTP_HOST', host)
      assert.match(configError(() => resolveConfig()).message, /http\.host/, host)
    }
    for (const host of ['127.0.0.1', '0.0.0.0', '::', '::1', 'localhost', 'node-1.internal.example.com']) {
      env('WSHUB_HTTP_HOST', host)
      assert.equal(resolveConfig().http.host, host)
    }
  })

  it('refuses an http.admin_address that is not host:port, naming the key', () => {
    for (const address of ['garbage', '127.0.0.1:', '127.0.0.1:99999', 'not a host:9090', '[nope]:9090', ':9090']) {
      env('WSHUB_HTTP_ADMIN_ADDRESS', address)
      assert.match(configError(() => resolveConfig()).message, /http\.admin_address/, address)
    }
    for (const address of ['', '127.0.0.1:9090', '[::1]:0', 'localhost:9090', '9090']) {
      env('WSHUB_HTTP_ADMIN_ADDRESS', address)
      assert.equal(resolveConfig().http.admin_address, address)
    }
  })

  it('takes the Redis modes with their keys, standalone by default', () => {
    assert.equal(resolveConfig().cluster.redis.mode, 'standalone')
    const sentinel = resolveConfig({ cluster: { bus: 'redis', redis: { mode: 'sentinel', sentinels: ['127.0.0.1:26379', '[::1]:26380'], master_name: 'main' } } }).cluster.redis
    assert.deepEqual([sentinel.mode, sentinel.sentinels, sentinel.master_name], ['sentinel', ['127.0.0.1:26379', '[::1]:26380'], 'main'])
    env('WSHUB_CLUSTER_REDIS_NODES', 'redis://10.0.0.1:7000, node-2.example:7001')
    assert.deepEqual(resolveConfig({ cluster: { bus: 'redis', redis: { mode: 'cluster' } } }).cluster.redis.nodes, ['redis://10.0.0.1:7000', 'node-2.example:7001'])
  })

  it('refuses a Redis mode without the addresses it needs, or a bad one, naming the key', () => {
    assert.match(configError(() => resolveConfig({ cluster: { redis: { mode: 'sharded' as never } } })).message, /cluster\.redis\.mode/)
    assert.match(configError(() => resolveConfig({ cluster: { bus: 'redis', redis: { mode: 'sentinel' } } })).message, /cluster\.redis\.sentinels/)
    assert.match(configError(() => resolveConfig({ cluster: { bus: 'redis', redis: { mode: 'sentinel', sentinels: ['127.0.0.1:26379'], master_name: ' ' } } })).message, /cluster\.redis\.master_name/)
    assert.match(configError(() => resolveConfig({ cluster: { bus: 'redis', redis: { mode: 'cluster' } } })).message, /cluster\.redis\.nodes/)
    for (const bad of ['127.0.0.1', 'host:port', '127.0.0.1:0', '127.0.0.1:70000', 'http://x:1']) {
      assert.match(configError(() => resolveConfig({ cluster: { redis: { nodes: [bad] } } })).message, /cluster\.redis\.nodes/, bad)
    }
  })

  it('takes cluster.nats.replicas 1..5, default 1, and refuses anything else naming the key', () => {
    assert.equal(resolveConfig().cluster.nats.replicas, 1)
    assert.equal(resolveConfig({ cluster: { nats: { replicas: 3 } } }).cluster.nats.replicas, 3)
    for (const bad of [0, 6, 2.5]) assert.match(configError(() => resolveConfig({ cluster: { nats: { replicas: bad } } })).message, /cluster\.nats\.replicas/, String(bad))
    env('WSHUB_CLUSTER_NATS_REPLICAS', 'three')
    assert.match(configError(() => resolveConfig()).message, /cluster\.nats\.replicas/)
  })

  it('refuses an unknown key, naming it', () => {
    assert.match(configError(() => resolveConfig({ ws: { max_paylod: 1 } } as never)).message, /max_paylod/)
  })
})

describe('configs/', () => {
  const dir = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../configs')
  it('holds only files that load and validate, one per Redis mode and the NATS cluster among them', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml'))
    for (const f of files) loadConfig(join(dir, f))
    const modes = files.map((f) => loadConfig(join(dir, f)).cluster).map((c) => (c.bus === 'redis' ? `redis-${c.redis.mode}` : c.bus === 'nats' && c.nats.replicas > 1 ? 'nats-replicated' : c.bus))
    for (const mode of ['redis-cluster', 'redis-sentinel', 'nats-replicated']) assert.ok(modes.includes(mode), mode)
  })
})

describe('loadConfig', () => {
  it('gives the defaults with no file', () => {
    assert.equal(loadConfig().http.port, 8080)
  })

  it('reads a nested YAML file', () => {
    const path = file('node.yaml', 'http:\n  port: 9100\ncluster:\n  redis:\n    url: redis://yaml:1\nws:\n  allowed_origins:\n    - https://a.example\n')
    const c = loadConfig(path)
    assert.equal(c.http.port, 9100)
    assert.equal(c.cluster.redis.url, 'redis://yaml:1')
    assert.deepEqual(c.ws.allowed_origins, ['https://a.example'])
  })

  it('reads a .yml file', () => {
    assert.equal(loadConfig(file('node.yml', 'rooms:\n  history_size: 3\n')).rooms.history_size, 3)
  })

  it('reads a JSON file', () => {
    const c = loadConfig(file('node.json', JSON.stringify({ rooms: { default_max_clients: 4 }, log: { level: 'debug' } })))
    assert.equal(c.rooms.default_max_clients, 4)
    assert.equal(c.log.level, 'debug')
  })

  it('lets the environment win over the file', () => {
    const path = file('port.yaml', 'http:\n  port: 9100\n')
    env('WSHUB_HTTP_PORT', '9200')
    assert.equal(loadConfig(path).http.port, 9200)
  })

  it('names the key of a bad value in the file', () => {
    assert.match(configError(() => loadConfig(file('bad.yaml', 'heartbeat:\n  interval_ms: -5\n'))).message, /heartbeat\.interval_ms/)
  })

  it('fails with a ConfigError naming the path of a missing file', () => {
    const missing = join(dir, 'nope.yaml')
    assert.ok(configError(() => loadConfig(missing)).message.includes(missing))
  })
})

describe('describeConfig', () => {
  it('lists every key with its env var name', () => {
    const rows = describeConfig()
    const redis = rows.find((r) => r.key === 'cluster.redis.url')
    assert.equal(redis?.env, 'WSHUB_CLUSTER_REDIS_URL')
    assert.equal(redis?.default, 'redis://127.0.0.1:6379')
    assert.ok(rows.every((r) => r.env === `WSHUB_${r.key.replace(/\./g, '_').toUpperCase()}`))
  })
})

describe('boolean keys', () => {
  it('read 1/0, yes/no, on/off and true/false from env vars, in any case', () => {
    for (const [text, value] of [['0', false], ['off', false], ['NO', false], ['False', false], ['1', true], ['on', true], ['yes', true], ['TRUE', true]] as const) {
      env('WSHUB_AUTH_ALLOW_ANONYMOUS', text)
      assert.equal(resolveConfig().auth.allow_anonymous, value, text)
    }
  })

  it('refuse any other word, naming the key', () => {
    env('WSHUB_AUTH_ALLOW_ANONYMOUS', 'maybe')
    assert.match(configError(() => resolveConfig()).message, /auth\.allow_anonymous/)
  })

  it('refuse a string in a file, naming the key', () => {
    assert.match(configError(() => loadConfig(file('bool.yaml', 'rooms:\n  auto_create: "sometimes"\n'))).message, /rooms\.auto_create/)
  })
})

describe('coherence checks', () => {
  it('refuse a heartbeat timeout of 10 intervals or more, naming the key', () => {
    assert.match(configError(() => resolveConfig({ heartbeat: { interval_ms: 100, timeout_ms: 1000 } })).message, /heartbeat\.timeout_ms/)
  })

  it('refuse a per-connection rate without a burst, naming the key', () => {
    assert.match(configError(() => resolveConfig({ rate_limit: { per_connection: { rate: 10, burst: 0 } } })).message, /rate_limit\.per_connection\.burst/)
  })
})

describe('number keys', () => {
  it('refuse env values that are not whole numbers, naming the key', () => {
    for (const [name, key, text] of [
      ['WSHUB_WS_MAX_CONNECTIONS', 'ws.max_connections', '10k'],
      ['WSHUB_HTTP_PORT', 'http.port', '80abc'],
      ['WSHUB_ROOMS_HISTORY_SIZE', 'rooms.history_size', '1.5'],
      ['WSHUB_HEARTBEAT_INTERVAL_MS', 'heartbeat.interval_ms', '5s'],
      ['WSHUB_WS_MAX_CONNECTIONS_PER_IP', 'ws.max_connections_per_ip', '-1'],
      ['WSHUB_AUTH_MAX_CONNECTIONS_PER_USER', 'auth.max_connections_per_user', 'two'],
    ]) {
      env(name!, text!)
      assert.match(configError(() => resolveConfig()).message, new RegExp(key!.replace(/\./g, '\\.')), `${name}=${text}`)
      delete process.env[name!]
    }
  })

  it('read whole numbers from env vars, 0 included where allowed', () => {
    env('WSHUB_HTTP_PORT', '0')
    env('WSHUB_WS_MAX_CONNECTIONS', ' 12 ')
    const c = resolveConfig()
    assert.equal(c.http.port, 0)
    assert.equal(c.ws.max_connections, 12)
  })
})

describe('http.dashboard', () => {
  it('is auto by default, and reads true, false and auto from env vars', () => {
    assert.equal(resolveConfig().http.dashboard, 'auto')
    for (const [text, value] of [['on', true], ['0', false], ['AUTO', 'auto']] as const) {
      env('WSHUB_HTTP_DASHBOARD', text)
      assert.equal(resolveConfig().http.dashboard, value, text)
    }
  })

  it('refuses any other value, naming the key', () => {
    env('WSHUB_HTTP_DASHBOARD', 'sometimes')
    assert.match(configError(() => resolveConfig()).message, /http\.dashboard/)
    assert.match(configError(() => loadConfig(file('dashboard.yaml', 'http:\n  dashboard: 1\n'))).message, /http\.dashboard/)
  })
})
