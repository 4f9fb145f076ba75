/**
 * Who may call `/api/*`: a request whose `Authorization: Bearer <token>` is the
 * configured `http.admin_token` (compared in constant time), or a JWT that the node's
 * `auth.*` keys verify and that grants `admin:system`. The keys are read from
 * `app.config` on every call, so a reload takes effect at once.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { WshubConfig } from './config.js'
import { ErrorCode } from './errors.js'
import { ADMIN_PERMISSION, Permissions } from './permissions.js'
import { TokenError, TokenVerifier } from './token.js'
import type { Identity } from './connection.js'

/** The verdict on a request's credentials. */
export type AdminVerdict =
  | { ok: true; via: 'token' | 'jwt'; subject: string | null }
  | { ok: false; code: ErrorCode; message: string }

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

/**
 * Checks an `Authorization` header value against the admin token and the JWT keys.
 *
 * @example
 * ```ts
 * const verdict = checkAdmin(req.headers.authorization, app.config)
 * if (!verdict.ok) return deny(res, 401, verdict)
 * ```
 */
export function checkAdmin(authorization: string | undefined, config: Pick<WshubConfig, 'http' | 'auth'>): AdminVerdict | Promise<AdminVerdict> {
  const match = authorization === undefined ? null : BEARER.exec(authorization)
  if (match === null) {
    return { ok: false, code: ErrorCode.Unauthorized, message: 'send Authorization: Bearer <http.admin_token, or a JWT granting admin:system>' }
  }
  const token = match[1]!
  if (config.http.admin_token !== '' && sameSecret(token, config.http.admin_token)) return { ok: true, via: 'token', subject: null }
  return checkJwt(token, config.auth)
}

// Hashing first gives both sides one length, so the comparison time says nothing about the token's.
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest()
  const b = createHash('sha256').update(expected).digest()
  return timingSafeEqual(a, b)
}

// Synchronous for a configured key; a Promise where the key comes from auth.jwks_url.
function checkJwt(token: string, auth: WshubConfig['auth']): AdminVerdict | Promise<AdminVerdict> {
  try {
    const identity = new TokenVerifier(auth).verify(token)
    return identity instanceof Promise ? identity.then(verdictOf, refusalOf) : verdictOf(identity)
  } catch (err) {
    return refusalOf(err)
  }
}

function verdictOf(identity: Identity): AdminVerdict {
  if (!new Permissions(identity.permissions).has(ADMIN_PERMISSION)) return { ok: false, code: ErrorCode.Forbidden, message: 'the token does not grant admin:system' }
  return { ok: true, via: 'jwt', subject: identity.userId }
}

function refusalOf(err: unknown): AdminVerdict {
  if (err instanceof TokenError && err.code === ErrorCode.TokenExpired) return { ok: false, code: ErrorCode.TokenExpired, message: 'the token has expired' }
  return { ok: false, code: ErrorCode.InvalidToken, message: 'not the admin token, nor a valid JWT granting admin:system' }
}
