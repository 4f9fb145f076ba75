/**
 * Who may call `/api/*`: a request whose `Authorization: Bearer <token>` is the
 * configured `http.admin_token` (compared in constant time), or a JWT that the node's
 * `auth.*` keys verify and that grants `admin:system`. The keys are read from
 * `app.config` on every call, so a reload takes effect at once.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import jwt, { type Algorithm } from 'jsonwebtoken'
import type { WshubConfig } from './config.js'
import { ErrorCode } from './errors.js'
import { ADMIN_PERMISSION, Permissions } from './permissions.js'

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
export function checkAdmin(authorization: string | undefined, config: WshubConfig): AdminVerdict {
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

function checkJwt(token: string, auth: WshubConfig['auth']): AdminVerdict {
  const refused = { ok: false, code: ErrorCode.InvalidToken, message: 'not the admin token, nor a valid JWT granting admin:system' } as const
  if (auth.secret === '' && auth.public_key === '') return refused
  const decoded = jwt.decode(token, { complete: true })
  if (decoded === null || typeof decoded.payload !== 'object') return refused
  // The key follows the algorithm's family, and only the configured algorithms of that
  // family are allowed, so a public key can never be used as an HMAC secret.
  const hmac = decoded.header.alg.startsWith('HS')
  const key = hmac ? auth.secret : auth.public_key
  const algorithms = auth.algorithms.filter((alg) => alg.startsWith('HS') === hmac) as Algorithm[]
  if (key === '' || algorithms.length === 0) return refused
  let claims: jwt.JwtPayload
  try {
    claims = jwt.verify(token, key, {
      algorithms,
      ...(auth.issuer !== '' ? { issuer: auth.issuer } : {}),
      ...(auth.audience !== '' ? { audience: auth.audience } : {}),
    }) as jwt.JwtPayload
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError) return { ok: false, code: ErrorCode.TokenExpired, message: 'the token has expired' }
    return refused
  }
  const granted = Array.isArray(claims.permissions) ? claims.permissions.filter((p): p is string => typeof p === 'string') : []
  if (!new Permissions(granted).has(ADMIN_PERMISSION)) return { ok: false, code: ErrorCode.Forbidden, message: 'the token does not grant admin:system' }
  const subject = typeof claims.sub === 'string' ? claims.sub : typeof claims.user_id === 'string' ? claims.user_id : null
  return { ok: true, via: 'jwt', subject }
}
