import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startNode, type TestNode } from '../support/node.js'
import { SECRET, forgedHs256, hs256, nowSeconds, rsaKeys, signWith, unsigned, type KeyPair } from '../support/tokens.js'
import { rawRequest, UPGRADE_HEADERS, INTERNALS, type RawAnswer } from '../support/raw-http.js'
import { resolveConfig } from '../../lib/config.js'
import { sleep } from '../support/expect.js'
import { TestClient } from '../support/ws-client.js'

const ADMIN_TOKEN = 'admin-token-of-the-attacks-test'
const GRACE_MS = 300
let keys: KeyPair
let node: TestNode

const hour = () => nowSeconds() + 3600
const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'mallory', iss: 'wshub-tests', aud: 'chat', exp: hour(), ...extra })

function config(secret = SECRET) {
  return {
    auth: { secret, public_key: keys.publicPem, algorithms: ['HS256', 'RS256'], issuer: 'wshub-tests', audience: 'chat', allow_anonymous: false, rotation_grace_ms: GRACE_MS },
    http: { admin_token: ADMIN_TOKEN },
  }
}

async function upgrade(path: string, headers: Array<[string, string]> = []): Promise<RawAnswer> {
  const answer = await rawRequest(node.port, path, [...UPGRADE_HEADERS, ...headers])
  assert.doesNotMatch(answer.text, INTERNALS, 'an answer carries a stack trace or an internal path')
  return answer
}

async function metric(series: string): Promise<number> {
  const text = await (await fetch(`${node.http}/metrics`)).text()
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? 0 : Number(line.slice(series.length + 1))
}

/** Refuses the handshake with 401 and `code`, and counts it once in wshub_auth_rejected_total. */
async function expectRejected(path: string, code: number, headers: Array<[string, string]> = []): Promise<void> {
  const series = `wshub_auth_rejected_total{code="${code}",stage="handshake"}`
  const before = await metric(series)
  const answer = await upgrade(path, headers)
  assert.equal(answer.status, 401, answer.text)
  assert.equal(JSON.parse(answer.body).code, code)
  assert.equal(await metric(series), before + 1)
}

before(async () => {
  keys = rsaKeys()
  node = await startNode(config())
})
after(() => node.close())

describe('tokens an attacker forges', () => {
  it('refuses alg none (2003)', () => expectRejected(`/ws?token=${unsigned(claims())}`, 2003))

  it('refuses HS256 signed with the RS256 public key as its secret (2003)', () => expectRejected(`/ws?token=${forgedHs256(claims(), keys.publicPem)}`, 2003))

  it('refuses a token for another audience (2003)', () => expectRejected(`/ws?token=${hs256(claims({ aud: 'billing' }))}`, 2003))

  it('refuses a token of another issuer (2003)', () => expectRejected(`/ws?token=${signWith(claims({ iss: 'evil' }), keys, 'RS256')}`, 2003))

  it('refuses a token whose nbf is in the future (2003)', () => expectRejected(`/ws?token=${hs256(claims({ nbf: nowSeconds() + 600 }))}`, 2003))

  it('refuses an expired token (2002)', () => expectRejected(`/ws?token=${hs256(claims({ exp: nowSeconds() - 5 }))}`, 2002))

  it('refuses a forged 12 KB token, under the header limit, like any other (2003)', () =>
    expectRejected(`/ws?token=${forgedHs256(claims({ pad: 'p'.repeat(9000) }), 'a guessed secret')}`, 2003))

  it('refuses a token in a second Authorization header (2003), whatever the first holds', async () => {
    await expectRejected('/ws', 2003, [['Authorization', 'Basic bWFsbG9yeTp4'], ['Authorization', `Bearer ${hs256(claims())}`]])
    await expectRejected('/ws', 2003, [['Authorization', `Bearer ${hs256(claims())}`], ['Authorization', `Bearer ${unsigned(claims())}`]])
  })
})

describe('a 100 KB token', () => {
  it('is refused with 431 by the HTTP parser before any token check, and counted in wshub_http_refused_total', async () => {
    // 431, not 401: the headers pass Node's 16 KB limit, so they are never parsed, let alone the JWT.
    const series = 'wshub_http_refused_total{status="431"}'
    const before = await metric(series)
    const token = hs256(claims({ pad: 'p'.repeat(100 * 1024) }))
    const viaQuery = await upgrade(`/ws?token=${token}`)
    const viaHeader = await upgrade('/ws', [['Authorization', `Bearer ${token}`]])
    assert.deepEqual([viaQuery.status, viaHeader.status], [431, 431])
    assert.equal(typeof JSON.parse(viaHeader.body).message, 'string')
    assert.equal(await metric(series), before + 2)
  })
})

describe('a key revoked by rotation', () => {
  it('is refused (2003) once auth.rotation_grace_ms has passed, and the new key is accepted', async () => {
    const old = hs256(claims())
    node.app.reload(resolveConfig(config('the-new-secret-of-at-least-32-bytes!')))
    await sleep(GRACE_MS + 100)
    await expectRejected(`/ws?token=${old}`, 2003)
    const fresh = hs256(claims(), 'the-new-secret-of-at-least-32-bytes!')
    assert.equal((await upgrade(`/ws?token=${fresh}`)).status, 101)
    node.app.reload(resolveConfig(config()))
  })
})

describe('the admin API', () => {
  const routes = ['/api/broadcast', '/api/stats', '/api/rooms', '/api/rooms/lobby', '/api/clients', '/api/clients/node.x', '/api/nothing-here', '/api']
  const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
  const credentials: Array<[string, Array<[string, string]>]> = [
    ['none', []],
    ['a wrong admin token', [['Authorization', 'Bearer not-the-admin-token']]],
    ['Basic auth', [['Authorization', `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`]]],
    ['a user JWT without admin:system', [['Authorization', `Bearer ${hs256(claims({ permissions: ['send:message'] }))}`]]],
    ['an alg-none JWT granting admin:system', [['Authorization', `Bearer ${unsigned(claims({ permissions: ['admin:system'] }))}`]]],
    ['the admin token in a second Authorization header', [['Authorization', 'Bearer x'], ['Authorization', `Bearer ${ADMIN_TOKEN}`]]],
  ]

  it(`refuses every route and method (${routes.length * methods.length * credentials.length} requests) with 401 without its credentials`, async () => {
    const wrong: string[] = []
    for (const route of routes) {
      for (const method of methods) {
        for (const [what, headers] of credentials) {
          const answer = await rawRequest(node.port, route, [...headers, ['Content-Type', 'application/json'], ['Content-Length', '2']], method)
          if (answer.status !== 401) wrong.push(`${method} ${route} with ${what}: ${answer.status}`)
          if (INTERNALS.test(answer.text)) wrong.push(`${method} ${route} with ${what}: internals in ${answer.text}`)
        }
      }
    }
    assert.deepEqual(wrong, [])
  })

  it('serves the same routes with the admin token (the refusals above are not for another reason)', async () => {
    const answer = await rawRequest(node.port, '/api/stats', [['Authorization', `Bearer ${ADMIN_TOKEN}`]])
    assert.equal(answer.status, 200)
  })
})

describe('the auth message', () => {
  it('refuses forged, oversized and expired tokens with an error that carries no stack trace or internal path', async () => {
    const answers: string[] = []
    const client = await TestClient.connect(`${node.url}?token=${hs256(claims())}`)
    for (const token of [unsigned(claims()), forgedHs256(claims(), keys.publicPem), 'x'.repeat(60_000), hs256(claims({ exp: 1 }))]) {
      const reply = await client.request('auth', { token })
      assert.equal(reply.message_type, 'error')
      answers.push(JSON.stringify(reply))
    }
    client.socket.terminate()
    assert.deepEqual(answers.filter((a) => INTERNALS.test(a)), [])
  })
})
