/**
 * JWT verification, for the auth middleware and the admin API: the one file that imports `jsonwebtoken`.
 * The algorithm is pinned before any key is touched (the token's `alg` must be in
 * `auth.algorithms`, and picks the key: HS* the secret, RS/PS/ES* the public key), so
 * `alg: none` and HS/RS key confusion never reach a signature check. After a key change,
 * the previous keys stay valid for a grace period. With `auth.jwks_url`, the RS/PS/ES key
 * comes from the provider's key set by `kid` (jwks.ts) and goes through the same check.
 */
import { createPublicKey, createSecretKey, type KeyObject } from 'node:crypto'
import jwt from 'jsonwebtoken'
import { ConfigError } from './config.js'
import type { Identity } from './connection.js'
import { jwksKeys, type JwksKeys, type JwksSettings } from './jwks.js'

export { KeysUnavailableError } from './jwks.js'

/** The settings verification reads: the `auth.*` keys of the config. */
export interface TokenSettings extends Partial<JwksSettings> {
  secret: string
  public_key: string
  algorithms: string[]
  issuer: string
  audience: string
}

/** A refused token, with its protocol code: 2002 expired (and otherwise good), 2003 anything else. */
export class TokenError extends Error {
  constructor(readonly code: 2002 | 2003, message: string) {
    super(message)
    this.name = 'TokenError'
  }
}

const SYMMETRIC = ['HS256', 'HS384', 'HS512']
const ASYMMETRIC = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512']

interface Keys {
  secret: KeyObject | null
  publicKey: KeyObject | null
  /** The provider's key set, where `auth.jwks_url` is set (then `publicKey` is null). */
  jwks: JwksKeys | null
  /** What the keys were made from, to tell whether a reload changed them. */
  source: string
}

function keysOf(settings: TokenSettings): Keys {
  let publicKey: KeyObject | null = null
  if (settings.public_key !== '') {
    try {
      publicKey = createPublicKey(settings.public_key)
    } catch (err) {
      throw new ConfigError(`auth.public_key: not a usable PEM public key (${(err as Error).message})`)
    }
  }
  const secret = settings.secret === '' ? null : createSecretKey(Buffer.from(settings.secret))
  const url = settings.jwks_url ?? ''
  if (url !== '' && publicKey !== null) throw new ConfigError('auth.jwks_url: set auth.jwks_url or auth.public_key, not both')
  if (url !== '' && !settings.algorithms.some((alg) => ASYMMETRIC.includes(alg))) {
    throw new ConfigError(`auth.algorithms: auth.jwks_url serves RS/PS/ES keys, but the accepted algorithms are ${settings.algorithms.join(', ')}; add RS256 (or the provider's)`)
  }
  const jwks = url === '' ? null : jwksKeys({ jwks_url: url, jwks_cooldown_ms: settings.jwks_cooldown_ms ?? 30000, jwks_cache_ms: settings.jwks_cache_ms ?? 600000 })
  return { secret, publicKey, jwks, source: `${settings.secret}\n${settings.public_key}\n${url}` }
}

function checkAlgorithms(algorithms: readonly string[]): void {
  if (!Array.isArray(algorithms) || algorithms.length === 0) throw new ConfigError('auth.algorithms: must list at least one algorithm, e.g. HS256')
  for (const alg of algorithms) {
    if (!SYMMETRIC.includes(alg) && !ASYMMETRIC.includes(alg)) {
      throw new ConfigError(`auth.algorithms: ${JSON.stringify(alg)} is not supported; use ${[...SYMMETRIC, ...ASYMMETRIC].join(', ')}`)
    }
  }
}

/**
 * Checks JWTs against the configured algorithms, keys, issuer and audience.
 *
 * @example
 * ```ts
 * const verifier = new TokenVerifier(app.config.auth)
 * const identity = verifier.verify(token)     // or throws TokenError(2002 | 2003)
 * verifier.update(next.auth, next.auth.rotation_grace_ms)
 * ```
 */
export class TokenVerifier {
  private settings: TokenSettings
  private keys: Keys
  private previous: { keys: Keys; until: number } | null = null

  constructor(settings: TokenSettings) {
    checkAlgorithms(settings.algorithms)
    this.settings = settings
    this.keys = keysOf(settings)
  }

  /** True when some accepted algorithm has its key, so that some token can pass. */
  get usable(): boolean {
    return this.settings.algorithms.some((alg) => this.hasKeyFor(alg))
  }

  /** Takes new settings; tokens of replaced keys stay valid for `graceMs`. */
  update(settings: TokenSettings, graceMs: number): void {
    checkAlgorithms(settings.algorithms)
    const keys = keysOf(settings)
    if (keys.source !== this.keys.source && graceMs > 0) this.previous = { keys: this.keys, until: Date.now() + graceMs }
    this.settings = settings
    this.keys = keys
  }

  /**
   * The identity a token proves, or a {@link TokenError}. Synchronous for a configured
   * key; a Promise where the key comes from `auth.jwks_url` (which may also reject with a
   * `KeysUnavailableError` when the key set cannot be fetched).
   */
  verify(token: string): Identity | Promise<Identity> {
    const decoded = jwt.decode(token, { complete: true })
    if (decoded === null || typeof decoded.payload !== 'object' || decoded.payload === null) throw new TokenError(2003, 'token is not a JWT')
    const alg = decoded.header.alg
    if (!this.settings.algorithms.includes(alg)) throw new TokenError(2003, `token algorithm ${alg} is not accepted`)
    if (this.keys.jwks !== null && !SYMMETRIC.includes(alg)) return this.verifyRemote(token, alg, decoded.header.kid, this.keys.jwks)
    let why = `no key is configured for ${alg}`
    const previous = this.previous !== null && this.previous.until > Date.now() ? this.previous.keys : null
    for (const keys of previous === null ? [this.keys] : [this.keys, previous]) {
      const key = this.keyFor(alg, keys)
      if (key === null) continue
      const outcome = this.check(token, key, alg)
      if (!(outcome instanceof Error)) return outcome
      why = outcome.message
      // Only a signature mismatch may be the other key's token; anything else is final.
      if (why !== 'invalid signature') break
    }
    throw new TokenError(2003, `invalid token: ${why}`)
  }

  /** A token whose key is in the provider's key set: chosen by `kid` (refreshed, within the cooldown, for one not seen yet). */
  private async verifyRemote(token: string, alg: string, kid: string | undefined, jwks: JwksKeys): Promise<Identity> {
    const keys = await jwks(kid === undefined ? { alg } : { alg, kid })
    let why = kid === undefined ? `no key of auth.jwks_url for ${alg}` : `no key of auth.jwks_url has kid ${JSON.stringify(kid)} for ${alg}`
    for (const key of keys) {
      const outcome = this.check(token, key, alg)
      if (!(outcome instanceof Error)) return outcome
      why = outcome.message
      if (why !== 'invalid signature') break
    }
    throw new TokenError(2003, `invalid token: ${why}`)
  }

  /** One key against a token: the identity, a TokenError 2002 to throw at once, or the reason the key did not verify it. */
  private check(token: string, key: KeyObject, alg: string): Identity | Error {
    try {
      return identityOf(jwt.verify(token, key, this.options(alg, false)) as jwt.JwtPayload)
    } catch (err) {
      if ((err as Error).name === 'TokenExpiredError') throw this.expired(token, key, alg)
      return err as Error
    }
  }

  // jsonwebtoken checks exp before aud and iss: an expired token is 2002 only if the rest holds.
  private expired(token: string, key: KeyObject, alg: string): TokenError {
    try {
      jwt.verify(token, key, this.options(alg, true))
      return new TokenError(2002, 'token expired')
    } catch (err) {
      return new TokenError(2003, `invalid token: ${(err as Error).message}`)
    }
  }

  private options(alg: string, ignoreExpiration: boolean): jwt.VerifyOptions {
    const { issuer, audience } = this.settings
    return {
      algorithms: [alg as jwt.Algorithm],
      issuer: issuer === '' ? undefined : issuer,
      audience: audience === '' ? undefined : audience,
      ignoreExpiration,
    }
  }

  private keyFor(alg: string, keys: Keys): KeyObject | null {
    return SYMMETRIC.includes(alg) ? keys.secret : keys.publicKey
  }

  private hasKeyFor(alg: string): boolean {
    return SYMMETRIC.includes(alg) ? this.keys.secret !== null : this.keys.publicKey !== null || this.keys.jwks !== null
  }
}

function identityOf(claims: jwt.JwtPayload): Identity {
  const subject = claims.sub ?? claims.user_id
  const userId = typeof subject === 'string' || typeof subject === 'number' ? String(subject) : null
  const permissions = Array.isArray(claims.permissions) ? claims.permissions.filter((p): p is string => typeof p === 'string') : []
  return {
    userId,
    username: typeof claims.username === 'string' ? claims.username : null,
    permissions,
    claims,
    expiresAt: typeof claims.exp === 'number' ? claims.exp * 1000 : null,
  }
}
