import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import jwt from 'jsonwebtoken'
import { checkAdmin, type AdminVerdict } from '../../lib/admin-auth.js'
import { resolveConfig, type ConfigInput } from '../../lib/config.js'

const SECRET = 'unit-secret'
const ADMIN = { permissions: ['admin:system'] }

// Configured keys only here: the verdict is synchronous (a Promise only for auth.jwks_url keys).
function sync(result: ReturnType<typeof checkAdmin>): AdminVerdict {
  assert.ok(!(result instanceof Promise))
  return result
}

function verdict(token: string | undefined, config: ConfigInput) {
  return sync(checkAdmin(token === undefined ? undefined : `Bearer ${token}`, resolveConfig(config)))
}

describe('checkAdmin', () => {
  it('accepts the admin token, whatever the case of the scheme', () => {
    const config = resolveConfig({ http: { admin_token: 's3cret' } })
    assert.deepEqual(checkAdmin('Bearer s3cret', config), { ok: true, via: 'token', subject: null })
    assert.equal(sync(checkAdmin('bearer s3cret', config)).ok, true)
  })

  it('refuses a token that only shares a prefix with the admin token', () => {
    assert.equal(verdict('s3cre', { http: { admin_token: 's3cret' } }).ok, false)
    assert.equal(verdict('s3crett', { http: { admin_token: 's3cret' } }).ok, false)
  })

  it('refuses with code 2000 when the header is missing or not Bearer', () => {
    const config = resolveConfig({ http: { admin_token: 's3cret' } })
    for (const header of [undefined, '', 'Bearer', 'Token s3cret', 's3cret']) {
      const result = sync(checkAdmin(header, config))
      assert.equal(result.ok, false)
      assert.equal(!result.ok && result.code, 2000)
    }
  })

  it('never accepts an empty admin token when http.admin_token is off', () => {
    assert.equal(sync(checkAdmin('Bearer ', resolveConfig({}))).ok, false)
  })

  it('accepts an HS256 JWT granting admin:system and reports its subject', () => {
    const token = jwt.sign({ ...ADMIN, sub: 'ops' }, SECRET, { algorithm: 'HS256' })
    assert.deepEqual(verdict(token, { auth: { secret: SECRET } }), { ok: true, via: 'jwt', subject: 'ops' })
  })

  it('accepts a JWT whose glob grant covers admin:system', () => {
    const token = jwt.sign({ permissions: ['admin:*'] }, SECRET, { algorithm: 'HS256' })
    assert.equal(verdict(token, { auth: { secret: SECRET } }).ok, true)
  })

  it('refuses a JWT without admin:system with code 2001', () => {
    const token = jwt.sign({ permissions: ['join:room'] }, SECRET, { algorithm: 'HS256' })
    const result = verdict(token, { auth: { secret: SECRET } })
    assert.equal(!result.ok && result.code, 2001)
  })

  it('refuses a JWT whose permissions claim is not a list', () => {
    const token = jwt.sign({ permissions: 'admin:system' }, SECRET, { algorithm: 'HS256' })
    assert.equal(verdict(token, { auth: { secret: SECRET } }).ok, false)
  })

  it('refuses a JWT signed with an algorithm outside auth.algorithms', () => {
    const token = jwt.sign(ADMIN, SECRET, { algorithm: 'HS512' })
    assert.equal(verdict(token, { auth: { secret: SECRET } }).ok, false)
    assert.equal(verdict(token, { auth: { secret: SECRET, algorithms: ['HS256', 'HS512'] } }).ok, true)
  })

  it('checks the issuer and audience where configured, a missing claim counting as wrong', () => {
    const auth = { secret: SECRET, issuer: 'https://id.example', audience: 'wshub' }
    const good = jwt.sign(ADMIN, SECRET, { algorithm: 'HS256', issuer: 'https://id.example', audience: 'wshub' })
    const wrongIssuer = jwt.sign(ADMIN, SECRET, { algorithm: 'HS256', issuer: 'https://evil.example', audience: 'wshub' })
    const noAudience = jwt.sign(ADMIN, SECRET, { algorithm: 'HS256', issuer: 'https://id.example' })
    assert.equal(verdict(good, { auth }).ok, true)
    assert.equal(verdict(wrongIssuer, { auth }).ok, false)
    assert.equal(verdict(noAudience, { auth }).ok, false)
  })

  it('verifies RS256 with auth.public_key and never takes the public key as an HMAC secret', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
    const auth = { public_key: pem, algorithms: ['RS256', 'HS256'] }
    const rs = jwt.sign(ADMIN, privateKey, { algorithm: 'RS256' })
    assert.equal(verdict(rs, { auth }).ok, true)
    // The classic confusion attack: HS256 signed with the public key's PEM text.
    const forged = jwt.sign(ADMIN, pem, { algorithm: 'HS256' })
    assert.equal(verdict(forged, { auth }).ok, false)
  })

  it('refuses every JWT when no key is configured', () => {
    const token = jwt.sign(ADMIN, SECRET, { algorithm: 'HS256' })
    assert.equal(verdict(token, {}).ok, false)
  })

  it('follows a changed secret at once (the config is read on every call)', () => {
    const token = jwt.sign(ADMIN, 'new-secret', { algorithm: 'HS256' })
    assert.equal(verdict(token, { auth: { secret: SECRET } }).ok, false)
    assert.equal(verdict(token, { auth: { secret: 'new-secret' } }).ok, true)
  })
})
