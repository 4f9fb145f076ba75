/**
 * Keys from a JWKS URL (`auth.jwks_url`), the way identity providers (Auth0, Keycloak,
 * Cognito, Entra) publish rotating keys: the one file that imports `jose`, for its
 * `createRemoteJWKSet` (key choice by `kid` and `alg`, caching, and a cooldown that
 * rate-limits the refresh an unknown `kid` causes). Verification itself stays in
 * token.ts, the same path as a configured key. One key set per URL and settings is
 * shared by the whole process, so every verifier of a node shares its cache and cooldown.
 */
import { KeyObject } from 'node:crypto'
import { createLocalJWKSet, createRemoteJWKSet, type JWSHeaderParameters } from 'jose'

/** The settings of a JWKS source: the `auth.jwks_*` keys. */
export interface JwksSettings {
  jwks_url: string
  jwks_cooldown_ms: number
  jwks_cache_ms: number
}

/** The JWKS could not be fetched (provider down, timeout, not a JWKS): no token can be judged now. */
export class KeysUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'KeysUnavailableError'
  }
}

/** The candidate keys for a token's header: empty when none matches its `kid` and `alg` (after a refresh, where the cooldown allows one). */
export type JwksKeys = (header: { alg: string; kid?: string }) => Promise<KeyObject[]>

const sets = new Map<string, JwksKeys>()
const FETCH_TIMEOUT_MS = 5000

/**
 * The key source of `auth.jwks_url`, shared by every caller with the same settings.
 *
 * @example
 * ```ts
 * const keys = jwksKeys({ jwks_url: 'https://idp.example.com/.well-known/jwks.json', jwks_cooldown_ms: 30000, jwks_cache_ms: 600000 })
 * const [key] = await keys({ alg: 'RS256', kid: 'k1' })
 * ```
 */
export function jwksKeys(settings: JwksSettings): JwksKeys {
  const id = `${settings.jwks_url}\n${settings.jwks_cooldown_ms}\n${settings.jwks_cache_ms}`
  let keys = sets.get(id)
  if (keys === undefined) sets.set(id, (keys = remoteKeys(settings)))
  return keys
}

function remoteKeys(settings: JwksSettings): JwksKeys {
  const remote = createRemoteJWKSet(new URL(settings.jwks_url), {
    cooldownDuration: settings.jwks_cooldown_ms,
    cacheMaxAge: settings.jwks_cache_ms,
    timeoutDuration: FETCH_TIMEOUT_MS,
  })
  // jose's cooldown runs from a fetch that succeeded: a provider that fails (down, 429,
  // 5xx) would be asked again at every token with an unknown kid, or at every token once
  // the set is stale. So a failed fetch holds off the next one for the cooldown too, and
  // meanwhile the last set fetched, stale or not, verifies the tokens whose key it holds.
  let failedAt = -Infinity
  let failure: Error | null = null
  let last: JWKSLocal | null = null
  return async function keysFor(header) {
    if (Date.now() - failedAt < settings.jwks_cooldown_ms) return keysOfLast(header)
    try {
      return await keysIn(remote, header)
    } catch (err) {
      if (!(err instanceof KeysUnavailableError)) throw err
      failedAt = Date.now()
      failure = err
      const jwks = remote.jwks()
      last = jwks === undefined ? null : createLocalJWKSet(jwks)
      return keysOfLast(header)
    }
  }

  // A kid the last set lacks may be a new key of the provider's: not judged (503) until a fetch succeeds.
  async function keysOfLast(header: { alg: string; kid?: string }): Promise<KeyObject[]> {
    const keys = last === null ? [] : await keysIn(last, header)
    if (keys.length === 0) throw failure!
    return keys
  }
}

type JWKSLocal = (header: JWSHeaderParameters) => Promise<CryptoKey>

async function keysIn(set: JWKSLocal, header: { alg: string; kid?: string }): Promise<KeyObject[]> {
  try {
    return [KeyObject.from(await set(header as JWSHeaderParameters))]
  } catch (err) {
    const code = (err as { code?: string }).code
    if (code === 'ERR_JWKS_NO_MATCHING_KEY' || code === 'ERR_JOSE_NOT_SUPPORTED') return []
    // No kid, several keys of that alg: each is tried in turn.
    if (code === 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') {
      const keys: KeyObject[] = []
      for await (const key of err as AsyncIterable<CryptoKey>) keys.push(KeyObject.from(key))
      return keys
    }
    throw new KeysUnavailableError(`auth.jwks_url: the key set could not be fetched (${(err as Error).message})`, { cause: err })
  }
}
