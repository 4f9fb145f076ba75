/**
 * `auth.jwks_url` against a local JWKS server that rotates its keys: keys chosen by
 * `kid`, the same 401 codes and pinned algorithms as a configured key, a refresh on an
 * unknown `kid` rate-limited by `auth.jwks_cooldown_ms`, and 503 while the key set cannot
 * be fetched.
 */
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import { generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import jwt from 'jsonwebtoken'
import { resolveConfig, ConfigError, type ConfigInput } from '../../lib/config.js'
import { createApp } from '../../lib/application.js'
import { nodesClosedAfter } from '../support/node.js'
import { rawRequest, UPGRADE_HEADERS } from '../support/raw-http.js'
import { nowSeconds } from '../support/tokens.js'

interface SigningKey {
  kid: string
  privateKey: KeyObject
  jwk: Record<string, unknown>
}

function rsaKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } }
}

function ecKey(kid: string): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { kid, privateKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' } }
}

function sign(key: SigningKey, claims: Record<string, unknown>, algorithm: jwt.Algorithm = 'RS256', kid = key.kid): string {
  return jwt.sign(claims, key.privateKey, { algorithm, keyid: kid, noTimestamp: true })
}

/** An identity provider's JWKS endpoint on loopback, whose keys a test replaces, counting the fetches. */
class JwksServer {
  keys: SigningKey[] = []
  fetches = 0
  /** Set to answer every fetch with this status instead of the keys (a provider in trouble). */
  failWith = 0
  readonly server: Server = createServer((req, res) => {
    if (req.url !== '/.well-known/jwks.json') return void res.writeHead(404).end()
    this.fetches++
    if (this.failWith !== 0) return void res.writeHead(this.failWith, { 'content-type': 'text/plain' }).end('unavailable')
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys.map((k) => k.jwk) }))
  })

  async start(): Promise<string> {
    this.server.listen(0, '127.0.0.1')
    await once(this.server, 'listening')
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/.well-known/jwks.json`
  }

  close(): Promise<void> {
    this.server.closeAllConnections()
    return new Promise((resolve) => this.server.close(() => resolve()))
  }
}

const servers: JwksServer[] = []
after(() => Promise.all(servers.map((s) => s.close())))
const startNode = nodesClosedAfter()

async function provider(...keys: SigningKey[]): Promise<{ jwks: JwksServer; url: string }> {
  const jwks = new JwksServer()
  jwks.keys = keys
  servers.push(jwks)
  return { jwks, url: await jwks.start() }
}

function authConfig(url: string, auth: NonNullable<ConfigInput['auth']> = {}): ConfigInput {
  return { auth: { jwks_url: url, algorithms: ['RS256'], allow_anonymous: false, ...auth } }
}

async function handshake(port: number, token: string): Promise<{ status: number; code: number | null }> {
  const answer = await rawRequest(port, `/ws?token=${token}`, UPGRADE_HEADERS)
  return { status: answer.status, code: answer.status === 101 ? null : (JSON.parse(answer.body) as { code: number }).code }
}

describe('auth.jwks_url', () => {
  it('accepts a token signed by the key its kid names, with 401 2003 for an unknown key and 2002 for an expired token', async () => {
    const [k1, k2] = [rsaKey('k1'), rsaKey('k2')]
    const { url } = await provider(k1, k2)
    const node = await startNode(authConfig(url))
    const client = await node.connect(`?token=${sign(k2, { sub: 'alice' })}`)
    assert.equal(client.welcome.data.user_id, 'alice')
    assert.deepEqual(await handshake(node.port, sign(rsaKey('k1'), { sub: 'mallory' })), { status: 401, code: 2003 })
    assert.deepEqual(await handshake(node.port, sign(k1, { sub: 'alice', exp: nowSeconds() - 10 })), { status: 401, code: 2002 })
    client.close()
  })

  it('follows a rotation: a new kid is fetched after the cooldown, and a key the provider dropped stops verifying', async () => {
    const [old, next] = [rsaKey('2026-11'), rsaKey('2026-12')]
    const { jwks, url } = await provider(old)
    const node = await startNode(authConfig(url, { jwks_cooldown_ms: 100 }))
    ;(await node.connect(`?token=${sign(old, { sub: 'u' })}`)).close()
    assert.equal(jwks.fetches, 1)
    jwks.keys = [next]
    await new Promise((resolve) => setTimeout(resolve, 200))
    const client = await node.connect(`?token=${sign(next, { sub: 'u' })}`)
    assert.equal(client.welcome.data.user_id, 'u')
    assert.equal(jwks.fetches, 2)
    assert.deepEqual(await handshake(node.port, sign(old, { sub: 'u' })), { status: 401, code: 2003 })
    client.close()
  })

  it('fetches the key set a bounded number of times under a flood of forged kids', async () => {
    const good = rsaKey('good')
    const { jwks, url } = await provider(good)
    const node = await startNode(authConfig(url, { jwks_cooldown_ms: 60_000 }))
    ;(await node.connect(`?token=${sign(good, { sub: 'u' })}`)).close()
    const forger = rsaKey('forger')
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => handshake(node.port, sign(forger, { sub: 'admin' }, 'RS256', randomBytes(8).toString('hex')))),
    )
    for (const answer of answers) assert.deepEqual(answer, { status: 401, code: 2003 })
    // One fetch at the first token; the cooldown allows none after it within 60 s.
    assert.equal(jwks.fetches, 1)
  })

  it('fetches a failing key set a bounded number of times under a flood of forged kids, and verifies the keys of the last set fetched meanwhile', async () => {
    const good = rsaKey('good')
    const { jwks, url } = await provider(good)
    // The set goes stale at once; the cooldown bounds the fetches whatever their outcome.
    const node = await startNode(authConfig(url, { jwks_cooldown_ms: 60_000, jwks_cache_ms: 1 }))
    ;(await node.connect(`?token=${sign(good, { sub: 'u' })}`)).close()
    assert.equal(jwks.fetches, 1)
    jwks.failWith = 503
    await new Promise((resolve) => setTimeout(resolve, 20))
    const forger = rsaKey('forger')
    const forged = await Promise.all(
      Array.from({ length: 100 }, () => handshake(node.port, sign(forger, { sub: 'admin' }, 'RS256', randomBytes(8).toString('hex')))),
    )
    // A kid the last set lacks is not judged while the provider fails: 503, as before any fetch.
    for (const answer of forged) assert.deepEqual(answer, { status: 503, code: 1003 })
    for (let i = 0; i < 20; i++) assert.deepEqual(await handshake(node.port, sign(forger, { sub: 'admin' }, 'RS256', `forged-${i}`)), { status: 503, code: 1003 })
    // One failed fetch at the first token after the set went stale; none within the cooldown after it.
    assert.equal(jwks.fetches, 2)
    const client = await node.connect(`?token=${sign(good, { sub: 'u' })}`)
    assert.equal(client.welcome.data.user_id, 'u')
    assert.equal(jwks.fetches, 2)
    client.close()
  })

  it('fetches a key set that never answered a bounded number of times, answering 503 meanwhile', async () => {
    const key = rsaKey('k')
    const { jwks, url } = await provider(key)
    jwks.failWith = 500
    const node = await startNode(authConfig(url, { jwks_cooldown_ms: 60_000 }))
    for (let i = 0; i < 20; i++) assert.deepEqual(await handshake(node.port, sign(key, { sub: 'u' })), { status: 503, code: 1003 })
    assert.equal(jwks.fetches, 1)
  })

  it('keeps the algorithms pinned: an ES256 key of the set, alg none and an HS256 token signed with the public key are refused', async () => {
    const [rsa, ec] = [rsaKey('rsa'), ecKey('ec')]
    const { jwks, url } = await provider(rsa, ec)
    const node = await startNode(authConfig(url))
    assert.deepEqual(await handshake(node.port, sign(ec, { sub: 'u' }, 'ES256')), { status: 401, code: 2003 })
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT', kid: 'rsa' })).toString('base64url')}.${Buffer.from('{"sub":"u"}').toString('base64url')}.`
    assert.deepEqual(await handshake(node.port, none), { status: 401, code: 2003 })
    const confused = jwt.sign({ sub: 'u' }, JSON.stringify(rsa.jwk), { algorithm: 'HS256', keyid: 'rsa' })
    assert.deepEqual(await handshake(node.port, confused), { status: 401, code: 2003 })
    assert.equal(jwks.fetches, 0, 'a refused algorithm never reaches the key set')
  })

  it('answers 503 with code 1003, not a token code, while the key set cannot be fetched', async () => {
    const key = rsaKey('k')
    const { jwks, url } = await provider(key)
    await jwks.close()
    const node = await startNode(authConfig(url))
    assert.deepEqual(await handshake(node.port, sign(key, { sub: 'u' })), { status: 503, code: 1003 })
  })

  it('checks the token of an `auth` message and of the admin API against the same key set', async () => {
    const key = rsaKey('k')
    const { url } = await provider(key)
    const node = await startNode({ auth: { jwks_url: url, algorithms: ['RS256'], allow_anonymous: true } })
    const client = await node.connect()
    const reply = await client.request('auth', { token: sign(key, { sub: 'bob' }) })
    assert.equal(reply.message_type, 'auth_ok')
    assert.equal(reply.data.user_id, 'bob')
    assert.equal((await client.request('auth', { token: sign(rsaKey('k'), { sub: 'bob' }) })).data.code, 2003)
    const stats = await fetch(`${node.http}/api/stats`, { headers: { authorization: `Bearer ${sign(key, { sub: 'ops', permissions: ['admin:system'] })}` } })
    assert.equal(stats.status, 200)
    const forged = await fetch(`${node.http}/api/stats`, { headers: { authorization: `Bearer ${sign(rsaKey('k'), { sub: 'ops', permissions: ['admin:system'] })}` } })
    assert.equal(forged.status, 401)
    client.close()
  })
})

describe('auth.jwks_url configuration', () => {
  it('takes https anywhere and http on loopback only, naming the key otherwise', () => {
    for (const url of ['https://idp.example.com/.well-known/jwks.json', 'http://127.0.0.1:9000/jwks', 'http://localhost/jwks', 'http://[::1]:8000/jwks']) {
      assert.equal(resolveConfig({ auth: { jwks_url: url } }).auth.jwks_url, url)
    }
    for (const url of ['http://idp.example.com/jwks', 'http://10.0.0.1/jwks', 'ftp://127.0.0.1/jwks', 'not a url']) {
      assert.throws(() => resolveConfig({ auth: { jwks_url: url } }), (err: Error) => err instanceof ConfigError && /auth\.jwks_url/.test(err.message), url)
    }
  })

  it('refuses auth.jwks_url beside auth.public_key, or with no RS/PS/ES algorithm accepted', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
    assert.throws(() => createApp({ auth: { jwks_url: 'https://idp.example.com/jwks', public_key: pem, algorithms: ['RS256'] } }), /auth\.jwks_url: set auth\.jwks_url or auth\.public_key/)
    assert.throws(() => createApp({ auth: { jwks_url: 'https://idp.example.com/jwks', algorithms: ['HS256'] } }), /auth\.algorithms/)
  })
})

