import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { startNode, type TestNode } from '../support/node.js'
import { refusal } from '../support/handshake.js'
import { runCli } from '../support/process.js'
import { SECRET, ecKeys, forgedHs256, hs256, nowSeconds, rsaKeys, signWith, tampered, unsigned } from '../support/tokens.js'
import { createApp } from '../../lib/application.js'
import { ConfigError, resolveConfig, type ConfigInput } from '../../lib/config.js'
import { auth, tokenOf } from '../../middleware/auth/index.js'

const hour = () => nowSeconds() + 3600

function expectRefusal(node: TestNode, query: string, code: number) {
  return refusal(node.url + query).then((r) => {
    assert.equal(r.status, 401)
    assert.equal(r.body.code, code, r.body.message)
    assert.equal(typeof r.body.message, 'string')
  })
}

describe('auth handshake', () => {
  let node: TestNode
  before(async () => {
    node = await startNode({ auth: { secret: SECRET, allow_anonymous: false, issuer: 'wshub-tests', audience: 'chat' } })
  })
  after(() => node.close())
  const good = (extra: Record<string, unknown> = {}) => hs256({ sub: 'alice', iss: 'wshub-tests', aud: 'chat', exp: hour(), ...extra })

  it('accepts a valid token from ?token= and names the user in the welcome', async () => {
    const client = await node.connect(`?token=${good()}`)
    assert.equal(client.welcome.data.user_id, 'alice')
  })

  it('accepts a token from the Authorization: Bearer header', async () => {
    const client = await node.connect('', { headers: { authorization: `Bearer ${good()}` } })
    assert.equal(client.welcome.data.user_id, 'alice')
  })

  it('accepts a token from the wshub.bearer subprotocol and echoes wshub.v1', async () => {
    const client = await node.connect('', { protocols: ['wshub.v1', `wshub.bearer.${good()}`] })
    assert.equal(client.welcome.data.user_id, 'alice')
    assert.equal(client.socket.protocol, 'wshub.v1')
  })

  it('refuses a missing token with 401 and code 2000 where anonymous access is off', () => expectRefusal(node, '', 2000))

  it('refuses alg none with 2003', () => expectRefusal(node, `?token=${unsigned({ sub: 'alice', iss: 'wshub-tests', aud: 'chat', exp: hour() })}`, 2003))

  it('refuses an algorithm outside auth.algorithms with 2003', () =>
    expectRefusal(node, `?token=${hs256({ sub: 'alice', iss: 'wshub-tests', aud: 'chat', exp: hour() }, SECRET, 'HS512')}`, 2003))

  it('refuses a bad signature with 2003', () => expectRefusal(node, `?token=${tampered(good())}`, 2003))

  it('refuses a token signed with another secret with 2003', () =>
    expectRefusal(node, `?token=${hs256({ sub: 'alice', iss: 'wshub-tests', aud: 'chat', exp: hour() }, 'another-secret')}`, 2003))

  it('refuses an expired token that is otherwise good with 2002', () => expectRefusal(node, `?token=${good({ exp: nowSeconds() - 10 })}`, 2002))

  it('refuses an expired token with a wrong audience with 2003, not 2002', () =>
    expectRefusal(node, `?token=${good({ exp: nowSeconds() - 10, aud: 'other' })}`, 2003))

  it('refuses a wrong issuer with 2003', () => expectRefusal(node, `?token=${good({ iss: 'someone-else' })}`, 2003))

  it('refuses a missing issuer with 2003', () => expectRefusal(node, `?token=${hs256({ sub: 'alice', aud: 'chat', exp: hour() })}`, 2003))

  it('refuses a wrong audience with 2003', () => expectRefusal(node, `?token=${good({ aud: 'billing' })}`, 2003))

  it('refuses a missing audience with 2003', () => expectRefusal(node, `?token=${hs256({ sub: 'alice', iss: 'wshub-tests', exp: hour() })}`, 2003))

  it('refuses a token whose nbf is in the future with 2003', () => expectRefusal(node, `?token=${good({ nbf: nowSeconds() + 600 })}`, 2003))

  it('refuses something that is not a JWT with 2003', () => expectRefusal(node, '?token=not-a-jwt', 2003))

  it('emits auth_rejected for each refusal', async () => {
    const seen: Array<{ code: number; stage: string }> = []
    const listener = (info: { code: number; stage: 'handshake' | 'message' }) => seen.push(info)
    node.app.on('auth_rejected', listener)
    await expectRefusal(node, '', 2000)
    node.app.off('auth_rejected', listener)
    assert.deepEqual(seen, [{ code: 2000, stage: 'handshake' }])
  })
})

describe('auth with public keys', () => {
  const rsa = rsaKeys()
  const ec = ecKeys()

  it('accepts an RS256 token checked with auth.public_key', async () => {
    const node = await startNode({ auth: { public_key: rsa.publicPem, algorithms: ['RS256'], allow_anonymous: false } })
    try {
      const client = await node.connect(`?token=${signWith({ sub: 'rsa-user', exp: hour() }, rsa, 'RS256')}`)
      assert.equal(client.welcome.data.user_id, 'rsa-user')
    } finally {
      await node.close()
    }
  })

  it('accepts an ES256 token checked with auth.public_key', async () => {
    const node = await startNode({ auth: { public_key: ec.publicPem, algorithms: ['ES256'], allow_anonymous: false } })
    try {
      const client = await node.connect(`?token=${signWith({ sub: 'ec-user', exp: hour() }, ec, 'ES256')}`)
      assert.equal(client.welcome.data.user_id, 'ec-user')
    } finally {
      await node.close()
    }
  })

  it('refuses an HS256 token signed with the public key as secret (key confusion) where only RS256 is accepted', async () => {
    const node = await startNode({ auth: { public_key: rsa.publicPem, algorithms: ['RS256'], allow_anonymous: false } })
    try {
      await expectRefusal(node, `?token=${forgedHs256({ sub: 'mallory', exp: hour() }, rsa.publicPem)}`, 2003)
    } finally {
      await node.close()
    }
  })

  it('refuses an HS256 token signed with the public key as secret where both HS256 and RS256 are accepted', async () => {
    const node = await startNode({ auth: { secret: SECRET, public_key: rsa.publicPem, algorithms: ['RS256', 'HS256'], allow_anonymous: false } })
    try {
      await expectRefusal(node, `?token=${forgedHs256({ sub: 'mallory', exp: hour() }, rsa.publicPem)}`, 2003)
      const client = await node.connect(`?token=${hs256({ sub: 'alice', exp: hour() })}`)
      assert.equal(client.welcome.data.user_id, 'alice')
    } finally {
      await node.close()
    }
  })

  it('refuses an ES256 token where the key is RSA', async () => {
    const node = await startNode({ auth: { public_key: rsa.publicPem, algorithms: ['RS256', 'ES256'], allow_anonymous: false } })
    try {
      await expectRefusal(node, `?token=${signWith({ sub: 'ec-user', exp: hour() }, ec, 'ES256')}`, 2003)
    } finally {
      await node.close()
    }
  })
})

describe('auth identity', () => {
  let node: TestNode
  before(async () => {
    node = await startNode({ auth: { secret: SECRET, anonymous_permissions: ['join:room'] } })
  })
  after(() => node.close())

  it('takes the user id from sub, the username and the permissions claim', async () => {
    const exp = hour()
    const client = await node.connect(`?token=${hs256({ sub: 'u1', username: 'Alice', permissions: ['send:message'], exp })}`)
    const conn = node.app.server.connections.get(client.id)!
    assert.deepEqual([conn.userId, conn.username, conn.permissions.list, conn.expiresAt], ['u1', 'Alice', ['send:message'], exp * 1000])
  })

  it('falls back to the user_id claim when there is no sub', async () => {
    const client = await node.connect(`?token=${hs256({ user_id: 'u2' })}`)
    assert.equal(client.welcome.data.user_id, 'u2')
    assert.equal(node.app.server.connections.get(client.id)!.expiresAt, null)
  })

  it('gives anonymous clients auth.anonymous_permissions where anonymous access is on', async () => {
    const client = await node.connect()
    assert.equal(client.welcome.data.user_id, null)
    assert.deepEqual(node.app.server.connections.get(client.id)!.permissions.list, ['join:room'])
  })
})

describe('auth message', () => {
  let node: TestNode
  before(async () => {
    node = await startNode({ auth: { secret: SECRET } })
  })
  after(() => node.close())

  it('replaces the identity and permissions and answers auth_ok with user_id and expires_at', async () => {
    const client = await node.connect(`?token=${hs256({ sub: 'before', permissions: [], exp: hour() })}`)
    const refused = await client.request('join_room', { room_id: 'refresh-room' })
    assert.equal(refused.data.code, 2001)
    const exp = hour()
    const ok = await client.request('auth', { token: hs256({ sub: 'after', permissions: ['join:room', 'create:room'], exp }) })
    assert.equal(ok.message_type, 'auth_ok')
    assert.deepEqual(ok.data, { user_id: 'after', expires_at: exp * 1000 })
    const joined = await client.request('join_room', { room_id: 'refresh-room' })
    assert.equal(joined.message_type, 'room_joined')
    assert.equal(node.app.server.connections.get(client.id)!.userId, 'after')
  })

  it('answers 2003 to a bad token and keeps the identity', async () => {
    const client = await node.connect(`?token=${hs256({ sub: 'keeper', exp: hour() })}`)
    const reply = await client.request('auth', { token: tampered(hs256({ sub: 'thief', exp: hour() })) })
    assert.equal(reply.message_type, 'error')
    assert.equal(reply.data.code, 2003)
    assert.equal(node.app.server.connections.get(client.id)!.userId, 'keeper')
  })

  it('answers 2002 to an expired token', async () => {
    const client = await node.connect()
    const reply = await client.request('auth', { token: hs256({ sub: 'late', exp: nowSeconds() - 5 }) })
    assert.equal(reply.data.code, 2002)
  })

  it('answers 1001 when data.token is missing or empty, naming it in details', async () => {
    const client = await node.connect()
    const reply = await client.request('auth', {})
    assert.equal(reply.data.code, 1001)
    assert.deepEqual(reply.data.details, { issues: [{ path: ['token'], message: 'is required' }] })
    const empty = await client.request('auth', { token: '' })
    assert.deepEqual([empty.data.code, empty.data.details], [1001, { issues: [{ path: ['token'], message: 'must be a non-empty string' }] }])
  })

  it('emits auth_rejected with stage message', async () => {
    const client = await node.connect()
    const seen = new Promise((resolve) => node.app.once('auth_rejected', resolve))
    await client.request('auth', { token: 'garbage' })
    assert.deepEqual(await seen, { code: 2003, stage: 'message' })
  })
})

describe('auth expiry', () => {
  it('closes the connection with 4001 when its token expires', async () => {
    const node = await startNode({ auth: { secret: SECRET } })
    try {
      const client = await node.connect(`?token=${hs256({ sub: 'short', exp: nowSeconds() + 2 })}`)
      const closed = await client.waitClose(6000)
      assert.equal(closed.code, 4001)
    } finally {
      await node.close()
    }
  })

  it('moves the expiry when the token is refreshed', async () => {
    const node = await startNode({ auth: { secret: SECRET } })
    try {
      const firstExp = nowSeconds() + 2
      const client = await node.connect(`?token=${hs256({ sub: 'refresher', exp: firstExp })}`)
      const ok = await client.request('auth', { token: hs256({ sub: 'refresher', exp: hour() }) })
      assert.equal(ok.message_type, 'auth_ok')
      // Wait past the first expiry; a round-trip afterwards proves the socket is still open.
      await new Promise((r) => setTimeout(r, Math.max(0, firstExp * 1000 - Date.now()) + 500))
      const pong = await client.request('ping', {})
      assert.equal(pong.message_type, 'pong')
      assert.equal(client.closed, null)
    } finally {
      await node.close()
    }
  })

  it('leaves the connection open where auth.disconnect_on_expiry is off', async () => {
    const node = await startNode({ auth: { secret: SECRET, disconnect_on_expiry: false } })
    try {
      const exp = nowSeconds() + 2
      const client = await node.connect(`?token=${hs256({ sub: 'lingering', exp })}`)
      await new Promise((r) => setTimeout(r, Math.max(0, exp * 1000 - Date.now()) + 500))
      const pong = await client.request('ping', {})
      assert.equal(pong.message_type, 'pong')
    } finally {
      await node.close()
    }
  })
})

describe('auth key rotation on reload', () => {
  const reload = (node: TestNode, change: ConfigInput['auth']) => {
    const previous = node.app.config
    const next = resolveConfig({ ...previous, auth: { ...previous.auth, ...change } } as ConfigInput)
    node.app.emit('reload', next, previous)
  }

  it('accepts tokens of the old and the new key during auth.rotation_grace_ms', async () => {
    const node = await startNode({ auth: { secret: SECRET, allow_anonymous: false } })
    try {
      reload(node, { secret: 'the-new-secret' })
      const old = await node.connect(`?token=${hs256({ sub: 'old-key', exp: hour() })}`)
      const fresh = await node.connect(`?token=${hs256({ sub: 'new-key', exp: hour() }, 'the-new-secret')}`)
      assert.deepEqual([old.welcome.data.user_id, fresh.welcome.data.user_id], ['old-key', 'new-key'])
    } finally {
      await node.close()
    }
  })

  it('keeps the previous keys when the reloaded config leaves no key and no anonymous access', async () => {
    const node = await startNode({ auth: { secret: SECRET, allow_anonymous: false, rotation_grace_ms: 0 } })
    try {
      reload(node, { secret: '' })
      const client = await node.connect(`?token=${hs256({ sub: 'still-good', exp: hour() })}`)
      assert.equal(client.welcome.data.user_id, 'still-good')
    } finally {
      await node.close()
    }
  })

  it('refuses tokens of the old key once the grace is over', async () => {
    const node = await startNode({ auth: { secret: SECRET, allow_anonymous: false, rotation_grace_ms: 0 } })
    try {
      reload(node, { secret: 'the-new-secret' })
      await expectRefusal(node, `?token=${hs256({ sub: 'old-key', exp: hour() })}`, 2003)
      const fresh = await node.connect(`?token=${hs256({ sub: 'new-key', exp: hour() }, 'the-new-secret')}`)
      assert.equal(fresh.welcome.data.user_id, 'new-key')
    } finally {
      await node.close()
    }
  })
})

describe('auth without a key', () => {
  it('runs anonymous-only with a warning, refusing every token with 2003, where anonymous access is on', async () => {
    const lines: Array<{ level: number; msg: string }> = []
    const sink = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(chunk.toString())); done() } })
    const node = await startNode({}, { logger: pino({ level: 'warn' }, sink) })
    try {
      assert.ok(lines.some((l) => l.level === 40 && /every token will be refused/.test(l.msg)), JSON.stringify(lines))
      await expectRefusal(node, `?token=${hs256({ sub: 'anyone' })}`, 2003)
      const anonymous = await node.connect()
      assert.equal(anonymous.welcome.data.user_id, null)
    } finally {
      await node.close()
    }
  })

  it('makes createApp throw a ConfigError naming auth.secret where anonymous access is off', () => {
    assert.throws(() => createApp({ auth: { allow_anonymous: false } }), (err: unknown) => err instanceof ConfigError && /auth\.secret/.test(err.message) && /auth\.public_key/.test(err.message))
  })

  it('makes the CLI exit 2 where anonymous access is off', async () => {
    const result = await runCli({ WSHUB_AUTH_ALLOW_ANONYMOUS: 'false', WSHUB_AUTH_SECRET: '', WSHUB_AUTH_PUBLIC_KEY: '' })
    assert.equal(result.code, 2, result.stderr + result.stdout)
    assert.match(result.stderr, /auth\.secret/)
  })
})

describe('auth()', () => {
  it('refuses alg none in auth.algorithms at use() time', () => {
    const app = createApp({}, { defaults: false })
    assert.throws(() => app.use(auth({ secret: SECRET, algorithms: ['none'] })), /auth\.algorithms: "none" is not supported/)
  })

  it('refuses a public key that is not a PEM key at use() time', () => {
    const app = createApp({}, { defaults: false })
    assert.throws(() => app.use(auth({ public_key: '-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----', algorithms: ['RS256'] })), /auth\.public_key/)
  })

  it('returns a middleware named auth', () => {
    assert.equal(auth({ secret: SECRET }).name, 'auth')
  })

  it('works on its own, installed on an app without the default chain', async () => {
    const node = await startNode({}, { defaults: false })
    try {
      node.app.use(auth({ secret: SECRET, allow_anonymous: false }))
      await expectRefusal(node, '', 2000)
      const client = await node.connect(`?token=${hs256({ sub: 'solo' })}`)
      assert.equal(client.welcome.data.user_id, 'solo')
    } finally {
      await node.close()
    }
  })
})

describe('tokenOf', () => {
  const req = (url: string, headers: Record<string, string> = {}) => ({ url, headers }) as never

  it('prefers ?token= over the header and the subprotocol', () => {
    assert.equal(tokenOf(req('/ws?token=q', { authorization: 'Bearer h', 'sec-websocket-protocol': 'wshub.v1, wshub.bearer.p' })), 'q')
  })

  it('prefers the Authorization header over the subprotocol', () => {
    assert.equal(tokenOf(req('/ws', { authorization: 'Bearer h', 'sec-websocket-protocol': 'wshub.v1, wshub.bearer.p' })), 'h')
  })

  it('reads the wshub.bearer subprotocol', () => {
    assert.equal(tokenOf(req('/ws', { 'sec-websocket-protocol': 'wshub.v1, wshub.bearer.p' })), 'p')
  })

  it('is null when none is given', () => {
    assert.equal(tokenOf(req('/ws?other=1', { authorization: 'Basic abc' })), null)
  })
})
