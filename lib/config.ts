/**
 * The configuration: every key of PROTOCOL.md section 8 (and a few of our own), with
 * its default, format and `WSHUB_*` environment variable, validated by convict. Files
 * may be YAML or JSON; the environment wins over the file. A bad value throws a
 * {@link ConfigError} that names the key.
 */
import convict from 'convict'
import yaml from 'js-yaml'
import { HOST_PORT_HELP, isHost, parseHostPort } from './host-port.js'

convict.addParser([
  { extension: ['yml', 'yaml'], parse: (text: string) => yaml.load(text) },
  { extension: 'json', parse: JSON.parse },
])

convict.addFormat({
  name: 'pem',
  validate(value: unknown) {
    if (typeof value !== 'string') throw new Error('must be a PEM string')
    if (value !== '' && !value.includes('-----BEGIN')) throw new Error('must be a PEM block (-----BEGIN ...)')
  },
  // A PEM in an environment variable may carry `\n` escapes instead of real newlines.
  coerce: (value: unknown) => (typeof value === 'string' ? value.replace(/\\n/g, '\n') : value),
})

convict.addFormat({
  name: 'string-list',
  validate(value: unknown) {
    if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) throw new Error('must be a list of strings')
  },
  coerce: (value: unknown) => (typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value),
})

// convict's Boolean turns every string but "false" into true from an env var, so
// WSHUB_AUTH_ALLOW_ANONYMOUS=0 would have let anonymous clients in. Only these words count.
const TRUE_WORDS = new Set(['true', '1', 'yes', 'on'])
const FALSE_WORDS = new Set(['false', '0', 'no', 'off'])

convict.addFormat({
  name: 'bool',
  validate(value: unknown) {
    if (typeof value !== 'boolean') throw new Error('must be true or false (in env vars also 1/0, yes/no, on/off)')
  },
  coerce(value: unknown) {
    if (typeof value !== 'string') return value
    const word = value.trim().toLowerCase()
    return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : value
  },
})

convict.addFormat({
  name: 'bool-or-auto',
  validate(value: unknown) {
    if (typeof value !== 'boolean' && value !== 'auto') throw new Error('must be true, false or auto (in env vars also 1/0, yes/no, on/off)')
  },
  coerce(value: unknown) {
    if (typeof value !== 'string') return value
    const word = value.trim().toLowerCase()
    return TRUE_WORDS.has(word) ? true : FALSE_WORDS.has(word) ? false : word === 'auto' ? 'auto' : value
  },
})

convict.addFormat({
  name: 'node-id',
  validate(value: unknown) {
    if (typeof value !== 'string' || (value !== '' && !/^[a-zA-Z0-9_-]{1,64}$/.test(value))) {
      throw new Error('must be 1..64 chars of [a-zA-Z0-9_-] (no dots: client ids are <node_id>.<suffix>), or empty to generate one')
    }
  },
})

// Numbers from env vars go through Number(), not convict's parseInt: "10k" or "1.5"
// must stop start-up, not become 10 or 1.
const toNumber = (value: unknown) => (typeof value === 'string' && value.trim() !== '' ? Number(value) : value)

convict.addFormat({
  name: 'cluster-prefix',
  validate(value: unknown) {
    if (typeof value !== 'string' || !/^[a-zA-Z0-9_-]{1,64}$/.test(value)) {
      throw new Error('must be 1..64 chars of [a-zA-Z0-9_-] (it names Redis keys, NATS subjects and JetStream buckets)')
    }
  },
})

convict.addFormat({
  name: 'positive-int',
  validate(value: unknown) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new Error('must be an integer ≥ 1')
  },
  coerce: toNumber,
})

convict.addFormat({
  name: 'count',
  validate(value: unknown) {
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new Error('must be an integer ≥ 0')
  },
  coerce: toNumber,
})

convict.addFormat({
  name: 'tcp-port',
  validate(value: unknown) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) throw new Error('must be a port number 0..65535')
  },
  coerce: toNumber,
})

convict.addFormat({
  name: 'host',
  validate(value: unknown) {
    if (typeof value !== 'string' || !isHost(value)) {
      throw new Error('must be an IP address or a host name (0.0.0.0 for every IPv4 interface, :: for every interface)')
    }
  },
})

convict.addFormat({
  name: 'host-port',
  validate(value: unknown) {
    if (typeof value !== 'string') throw new Error(HOST_PORT_HELP)
    if (value !== '') parseHostPort(value)
  },
})

convict.addFormat({
  name: 'redis-node-list',
  validate(value: unknown) {
    if (!Array.isArray(value)) throw new Error('must be a list of host:port')
    for (const item of value) {
      if (typeof item !== 'string' || !/^(redis:\/\/)?(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/.test(item)) {
        throw new Error(`must be a list of host:port (got ${JSON.stringify(item)})`)
      }
      const port = Number(item.slice(item.lastIndexOf(':') + 1))
      if (port < 1 || port > 65535) throw new Error(`must be a list of host:port with ports 1..65535 (got ${JSON.stringify(item)})`)
    }
  },
  coerce: (value: unknown) => (typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : value),
})

convict.addFormat({
  name: 'nats-replicas',
  validate(value: unknown) {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 5) throw new Error('must be an integer 1..5 (JetStream keeps at most 5 replicas)')
  },
  coerce: toNumber,
})

convict.addFormat({
  name: 'url-path',
  validate(value: unknown) {
    if (typeof value !== 'string' || !/^\/[^\s?#]*$/.test(value)) throw new Error('must be a URL path starting with / (no spaces, ? or #), e.g. /ws')
  },
})

// Keys from anywhere but a loopback address must come over TLS: whoever can change them
// in transit can sign any token.
convict.addFormat({
  name: 'jwks-url',
  validate(value: unknown) {
    const help = 'must be an https:// URL of a JWKS (http:// only on a loopback address: 127.0.0.1, localhost, [::1]), or empty'
    if (typeof value !== 'string') throw new Error(help)
    if (value === '') return
    let url: URL
    try {
      url = new URL(value)
    } catch {
      throw new Error(help)
    }
    const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(url.hostname)
    if (!(url.protocol === 'https:' || (url.protocol === 'http:' && loopback))) throw new Error(help)
  },
})

/** Every configuration key, typed. */
export interface WshubConfig {
  http: { host: string; port: number; admin_token: string; admin_address: string; dashboard: boolean | 'auto'; handshake_timeout_ms: number }
  ws: {
    path: string
    max_payload: number
    max_connections: number
    max_connections_per_ip: number
    allowed_origins: string[]
    max_buffered_bytes: number
    compression: { enabled: boolean; threshold: number; max_memory_mb: number }
  }
  heartbeat: { interval_ms: number; timeout_ms: number }
  auth: {
    enabled: boolean
    secret: string
    public_key: string
    algorithms: string[]
    issuer: string
    audience: string
    allow_anonymous: boolean
    anonymous_permissions: string[]
    disconnect_on_expiry: boolean
    rotation_grace_ms: number
    max_connections_per_user: number
    jwks_url: string
    jwks_cooldown_ms: number
    jwks_cache_ms: number
  }
  rooms: { auto_create: boolean; default_max_clients: number; presence_events: boolean; history_size: number }
  rate_limit: {
    enabled: boolean
    per_connection: { rate: number; burst: number }
    per_user: { rate: number; burst: number }
    max_violations: number
  }
  dedup: { enabled: boolean; window_ms: number; max_entries: number; pending_wait_ms: number }
  cluster: {
    node_id: string
    bus: 'memory' | 'redis' | 'nats'
    prefix: string
    redis: { mode: 'standalone' | 'sentinel' | 'cluster'; url: string; sentinels: string[]; master_name: string; nodes: string[] }
    nats: { servers: string[]; jetstream: boolean; replicas: number }
    node_ttl_ms: number
    state_timeout_ms: number
  }
  log: { level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent'; format: 'json' | 'pretty' }
  config: { watch: boolean }
}

/** A config given in code: any subset of the keys, nested. */
export type ConfigInput = { [K in keyof WshubConfig]?: DeepPartial<WshubConfig[K]> }
type DeepPartial<T> = T extends unknown[] ? T : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T

const schema = {
  http: {
    host: { doc: 'Address that /ws and the HTTP API listen on.', format: 'host', default: '0.0.0.0' },
    port: { doc: 'Port; 0 picks a free one (the `listening` log line carries it).', format: 'tcp-port', default: 8080 },
    admin_token: { doc: 'Static bearer token for /api/*; empty turns it off.', format: String, default: '', sensitive: true },
    admin_address: { doc: 'host:port (or a port alone, on 127.0.0.1) of a separate listener for the HTTP API; empty shares the /ws port.', format: 'host-port', default: '' },
    dashboard: { doc: 'Serve the admin dashboard at /admin (on http.admin_address when set): true, false, or auto = on when http.admin_token is set.', format: 'bool-or-auto', default: 'auto' },
    handshake_timeout_ms: { doc: 'An upgrade whose headers are not all in within this time is dropped.', format: 'positive-int', default: 10000 },
  },
  ws: {
    path: { doc: 'WebSocket endpoint path.', format: 'url-path', default: '/ws' },
    max_payload: { doc: 'Largest inbound frame in bytes; longer frames close with 1009.', format: 'positive-int', default: 65536 },
    max_connections: { doc: 'Connections this node holds at most (HTTP 503 past it); 0 = off.', format: 'count', default: 0 },
    max_connections_per_ip: { doc: 'Connections one IP holds at most (HTTP 429 past it); 0 = off.', format: 'count', default: 0 },
    allowed_origins: { doc: 'Origins allowed to connect (HTTP 403 otherwise); empty = any.', format: 'string-list', default: [] as string[] },
    max_buffered_bytes: { doc: 'Bytes queued to one client before it is cut off as a slow consumer (close 1008).', format: 'positive-int', default: 4 * 1024 * 1024 },
    compression: {
      enabled: { doc: 'permessage-deflate for clients that offer it (server_no_context_takeover: a fan-out is deflated once for all its recipients).', format: 'bool', default: false },
      threshold: { doc: 'Frames shorter than this many bytes go out uncompressed.', format: 'count', default: 1024 },
      max_memory_mb: { doc: 'zlib memory all compressing connections may take, each counted at its worst case (about 200 KB); handshakes past it connect uncompressed.', format: 'positive-int', default: 64 },
    },
  },
  heartbeat: {
    interval_ms: { doc: 'The server pings every client this often.', format: 'positive-int', default: 30000 },
    timeout_ms: { doc: 'A client silent this long after a ping is dropped.', format: 'positive-int', default: 10000 },
  },
  auth: {
    enabled: { doc: 'Check tokens at all.', format: 'bool', default: true },
    secret: { doc: 'HS256 key.', format: String, default: '', sensitive: true },
    public_key: { doc: 'PEM public key for RS256/ES256.', format: 'pem', default: '' },
    jwks_url: { doc: 'URL of the identity provider\'s JWKS (keys chosen by kid) for RS/PS/ES tokens, instead of auth.public_key; https, or http on a loopback address only.', format: 'jwks-url', default: '' },
    jwks_cooldown_ms: { doc: 'After a JWKS fetch, answered or failed, a token with an unknown kid causes no other fetch for this long, nor does a stale set after a failed fetch (a flood of forged kids costs the provider one fetch per period).', format: 'count', default: 30000 },
    jwks_cache_ms: { doc: 'The JWKS is fetched again when older than this, whatever the tokens.', format: 'positive-int', default: 600000 },
    algorithms: { doc: 'Accepted JWT algorithms; nothing outside the list is.', format: 'string-list', default: ['HS256'] },
    issuer: { doc: 'Required `iss`; empty = not checked.', format: String, default: '' },
    audience: { doc: 'Required `aud`; empty = not checked.', format: String, default: '' },
    allow_anonymous: { doc: 'Let clients without a token in.', format: 'bool', default: true },
    anonymous_permissions: { doc: 'What anonymous clients may do.', format: 'string-list', default: ['join:room', 'leave:room', 'send:message', 'create:room'] },
    disconnect_on_expiry: { doc: 'Close 4001 when a connection\'s token expires.', format: 'bool', default: true },
    rotation_grace_ms: { doc: 'After a key change on reload, tokens of the old key stay valid this long.', format: 'count', default: 300000 },
    max_connections_per_user: { doc: 'Connections one user (a token\'s sub) holds at most across the cluster (HTTP 429, code 2004, past it); 0 = off.', format: 'count', default: 0 },
  },
  rooms: {
    auto_create: { doc: 'Create a room on first join by a client holding create:room.', format: 'bool', default: true },
    default_max_clients: { doc: 'max_clients of rooms created without one; 0 = no limit.', format: 'count', default: 0 },
    presence_events: { doc: 'Send member_joined / member_left to members.', format: 'bool', default: false },
    history_size: { doc: 'room_messages kept per room for `since` recovery; 0 = off.', format: 'count', default: 0 },
  },
  rate_limit: {
    enabled: { doc: 'Rate-limit inbound frames.', format: 'bool', default: true },
    per_connection: {
      rate: { doc: 'Frames per second per connection.', format: 'count', default: 100 },
      burst: { doc: 'Bucket size per connection.', format: 'count', default: 200 },
    },
    per_user: {
      rate: { doc: 'Frames per second for all of one user\'s connections, cluster-wide; 0 = off.', format: 'count', default: 0 },
      burst: { doc: 'Bucket size per user.', format: 'count', default: 0 },
    },
    max_violations: { doc: 'Rate-limit refusals in a row before close 1008.', format: 'positive-int', default: 50 },
  },
  dedup: {
    enabled: { doc: 'Answer repeated requests without running them again.', format: 'bool', default: true },
    window_ms: { doc: 'How long a request id is remembered.', format: 'positive-int', default: 60000 },
    max_entries: { doc: 'Request ids remembered per node at most (older ones are forgotten first).', format: 'positive-int', default: 100000 },
    pending_wait_ms: { doc: 'A repeat that finds the first request still running waits this long for its outcome, then gets 1004.', format: 'positive-int', default: 5000 },
  },
  cluster: {
    node_id: { doc: 'This node\'s id; empty generates one.', format: 'node-id', default: '' },
    bus: { doc: 'memory (one process), redis or nats.', format: ['memory', 'redis', 'nats'], default: 'memory' },
    prefix: { doc: 'Prefix of every bus subject and state key, so clusters can share a server.', format: 'cluster-prefix', default: 'wshub' },
    redis: {
      mode: { doc: 'standalone (one server at cluster.redis.url), sentinel (the master that cluster.redis.sentinels name cluster.redis.master_name) or cluster (a Redis Cluster reached through cluster.redis.nodes; sharded pub/sub, Redis 7+).', format: ['standalone', 'sentinel', 'cluster'], default: 'standalone' },
      url: { doc: 'Redis URL (mode standalone); in the other modes only its user name and password are used, on every data node.', format: String, default: 'redis://127.0.0.1:6379' },
      sentinels: { doc: 'host:port of each Sentinel (mode sentinel).', format: 'redis-node-list', default: [] as string[] },
      master_name: { doc: 'The name the Sentinels know the master by (mode sentinel).', format: String, default: 'mymaster' },
      nodes: { doc: 'host:port of some nodes of the Redis Cluster (mode cluster); the others are found from them.', format: 'redis-node-list', default: [] as string[] },
    },
    nats: {
      servers: { doc: 'NATS servers.', format: 'string-list', default: ['nats://127.0.0.1:4222'] },
      jetstream: { doc: 'Keep room history in a JetStream stream (else in JetStream KV documents; the NATS cluster state needs a server with JetStream either way).', format: 'bool', default: false },
      replicas: { doc: 'Copies JetStream keeps of the state buckets and the history stream (1..5, at most the servers of the NATS cluster); applies when they are first made.', format: 'nats-replicas', default: 1 },
    },
    node_ttl_ms: { doc: 'A node silent this long is dead; its members are removed.', format: 'positive-int', default: 15000 },
    state_timeout_ms: { doc: 'A call to the cluster state (Redis or NATS) without an answer within this time fails: the client gets error 1003, a room message goes out without offset.', format: 'positive-int', default: 5000 },
  },
  log: {
    level: { doc: 'debug turns on per-frame logs.', format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    format: { doc: 'json or pretty.', format: ['json', 'pretty'], default: 'json' },
  },
  config: {
    watch: { doc: 'Reload when the config file changes (as on SIGHUP).', format: 'bool', default: false },
  },
}

/** A configuration value that failed validation; the message names the key. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

// Every key gets its WSHUB_* variable: `cluster.redis.url` → WSHUB_CLUSTER_REDIS_URL.
function withEnvNames(node: Record<string, unknown>, path: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(node)) {
    const here = [...path, key]
    const isLeaf = typeof value === 'object' && value !== null && 'default' in value
    out[key] = isLeaf ? { ...value, env: `WSHUB_${here.join('_').toUpperCase()}` } : withEnvNames(value as Record<string, unknown>, here)
  }
  return out
}

const fullSchema = withEnvNames(schema) as convict.Schema<WshubConfig>

function build(load: (c: convict.Config<WshubConfig>) => void): WshubConfig {
  try {
    const config = convict<WshubConfig>(fullSchema)
    load(config)
    config.validate({ allowed: 'strict' })
    const props = config.getProperties()
    checkCoherence(props)
    return props
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new ConfigError(`invalid configuration: ${(err as Error).message}`)
  }
}

function checkCoherence(c: WshubConfig): void {
  if (c.heartbeat.timeout_ms >= c.heartbeat.interval_ms * 10) {
    throw new ConfigError(`heartbeat.timeout_ms: must be less than 10 × heartbeat.interval_ms (got ${c.heartbeat.timeout_ms})`)
  }
  const redis = c.cluster.redis
  if (c.cluster.bus === 'redis' && redis.mode === 'sentinel') {
    if (redis.sentinels.length === 0) throw new ConfigError('cluster.redis.sentinels: must list at least one Sentinel (host:port) when cluster.redis.mode is sentinel')
    if (redis.master_name.trim() === '') throw new ConfigError('cluster.redis.master_name: must name the master when cluster.redis.mode is sentinel')
  }
  if (c.cluster.bus === 'redis' && redis.mode === 'cluster' && redis.nodes.length === 0) {
    throw new ConfigError('cluster.redis.nodes: must list at least one node (host:port) of the Redis Cluster when cluster.redis.mode is cluster')
  }
  if (c.rate_limit.per_connection.rate > 0 && c.rate_limit.per_connection.burst < 1) {
    throw new ConfigError('rate_limit.per_connection.burst: must be ≥ 1 when rate_limit.per_connection.rate is set')
  }
}

/**
 * Loads the configuration: defaults, then the file (YAML or JSON) if given, then the
 * `WSHUB_*` environment.
 *
 * @example
 * ```ts
 * const app = createApp(loadConfig('configs/example.yaml'))
 * ```
 */
export function loadConfig(file?: string): WshubConfig {
  return build((config) => {
    if (file) config.loadFile(file)
  })
}

/** Fills a partial config given in code with the defaults and the environment, and validates it. */
export function resolveConfig(input: ConfigInput = {}): WshubConfig {
  return build((config) => config.load(input))
}

/** The documentation of every key, for `configs/default.yaml` and `docs/configuration.md` (scripts/config-docs.mjs). */
export function describeConfig(): Array<{ key: string; default: unknown; doc: string; env: string }> {
  const rows: Array<{ key: string; default: unknown; doc: string; env: string }> = []
  const walk = (node: Record<string, unknown>, path: string[]) => {
    for (const [key, value] of Object.entries(node)) {
      const v = value as { default?: unknown; doc?: string; env?: string }
      if (typeof value === 'object' && value !== null && 'default' in value) {
        rows.push({ key: [...path, key].join('.'), default: v.default, doc: v.doc ?? '', env: v.env ?? '' })
      } else walk(value as Record<string, unknown>, [...path, key])
    }
  }
  walk(fullSchema as unknown as Record<string, unknown>, [])
  return rows
}
