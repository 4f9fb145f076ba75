import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { hs256, nowSeconds, rsaKeys, SECRET, signWith } from '../support/tokens.js'
import { TokenError, TokenVerifier, type TokenSettings } from '../../lib/token.js'
import { ConfigError } from '../../lib/config.js'

const settings = (change: Partial<TokenSettings> = {}): TokenSettings => ({ secret: SECRET, public_key: '', algorithms: ['HS256'], issuer: '', audience: '', ...change })

function refusal(verifier: TokenVerifier, token: string): number {
  try {
    verifier.verify(token)
  } catch (err) {
    assert.ok(err instanceof TokenError)
    return err.code
  }
  assert.fail('the token was accepted')
}

/** The identity of a token checked with a configured key: synchronous, no Promise. */
function localIdentity(verifier: TokenVerifier, token: string) {
  const identity = verifier.verify(token)
  assert.ok(!(identity instanceof Promise), 'a configured key verifies synchronously')
  return identity
}

describe('TokenVerifier', () => {
  it('turns the claims into an identity', () => {
    const exp = nowSeconds() + 60
    const identity = localIdentity(new TokenVerifier(settings()), hs256({ sub: 'u', username: 'U', permissions: ['a:b', 7], exp }))
    assert.deepEqual([identity.userId, identity.username, identity.permissions, identity.expiresAt], ['u', 'U', ['a:b'], exp * 1000])
  })

  it('is usable only when an accepted algorithm has its key', () => {
    assert.equal(new TokenVerifier(settings()).usable, true)
    assert.equal(new TokenVerifier(settings({ secret: '' })).usable, false)
    assert.equal(new TokenVerifier(settings({ secret: '', public_key: rsaKeys().publicPem })).usable, false, 'HS256 only, and no secret')
  })

  it('refuses alg none in the list with a ConfigError', () => {
    assert.throws(() => new TokenVerifier(settings({ algorithms: ['none'] })), ConfigError)
  })

  it('accepts the previous key during the grace after update, and the new one', () => {
    const verifier = new TokenVerifier(settings())
    verifier.update(settings({ secret: 'next-secret' }), 60_000)
    assert.equal(localIdentity(verifier, hs256({ sub: 'old' })).userId, 'old')
    assert.equal(localIdentity(verifier, hs256({ sub: 'new' }, 'next-secret')).userId, 'new')
  })

  it('refuses the previous key after an update without grace', () => {
    const verifier = new TokenVerifier(settings())
    verifier.update(settings({ secret: 'next-secret' }), 0)
    assert.equal(refusal(verifier, hs256({ sub: 'old' })), 2003)
  })

  it('keeps no previous key when an update does not change the keys', () => {
    const verifier = new TokenVerifier(settings())
    verifier.update(settings({ issuer: 'me' }), 60_000)
    verifier.update(settings({ issuer: 'me', secret: 'next-secret' }), 0)
    assert.equal(refusal(verifier, hs256({ sub: 'old', iss: 'me' })), 2003)
  })

  it('says 2002 for an expired token that is otherwise good, 2003 when it also fails a claim', () => {
    const verifier = new TokenVerifier(settings({ issuer: 'me' }))
    assert.equal(refusal(verifier, hs256({ sub: 'u', iss: 'me', exp: nowSeconds() - 1 })), 2002)
    assert.equal(refusal(verifier, hs256({ sub: 'u', iss: 'you', exp: nowSeconds() - 1 })), 2003)
  })

  it('checks RS256 tokens with the public key', () => {
    const keys = rsaKeys()
    const verifier = new TokenVerifier(settings({ secret: '', public_key: keys.publicPem, algorithms: ['RS256'] }))
    assert.equal(localIdentity(verifier, signWith({ sub: 'r' }, keys, 'RS256')).userId, 'r')
    assert.equal(refusal(verifier, signWith({ sub: 'r' }, rsaKeys(), 'RS256')), 2003)
  })
})
