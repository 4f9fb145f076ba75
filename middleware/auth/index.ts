/**
 * Authentication with JWTs (PROTOCOL.md sections 1 and 3): a handshake hook that checks
 * the token before the upgrade (HTTP 401 with code 2000, 2002 or 2003), the `auth`
 * message that replaces a connection's identity, the close 4001 when a token expires,
 * and key rotation on reload.
 */
import type { IncomingMessage } from 'node:http'
import type { Application, Middleware } from '../../lib/application.js'
import type { WshubConfig } from '../../lib/config.js'
import { ConfigError } from '../../lib/config.js'
import type { Connection, Identity } from '../../lib/connection.js'
import type { Context } from '../../lib/context.js'
import type { Next } from '../../lib/compose.js'
import { ErrorCode, HandshakeError } from '../../lib/errors.js'
import { KeysUnavailableError, TokenError, TokenVerifier } from '../../lib/token.js'
import { compileSchema } from '../../lib/schema/compile.js'
import { nonEmpty, objectSchema } from '../../lib/schema/object-schema.js'
import { runCheck } from '../../lib/schema/run-check.js'
import { ExpiryWheel } from './expiry-wheel.js'

/** The `auth` message's data (PROTOCOL.md section 3): `{"token": "<jwt>"}`. */
export const authDataSchema = objectSchema({ token: nonEmpty })
const checkAuthData = compileSchema(authDataSchema)

/** The `auth.*` config keys; any given here win over the app's config (and stay fixed on reload). */
export type AuthOptions = Partial<Omit<WshubConfig['auth'], 'enabled'>>

const BEARER = /^Bearer\s+(\S+)\s*$/i
const SUBPROTOCOL_PREFIX = 'wshub.bearer.'

/**
 * The token of a handshake: `?token=`, then `Authorization: Bearer`, then the
 * `wshub.bearer.<jwt>` subprotocol; null when there is none.
 *
 * @example
 * ```ts
 * app.onHandshake((req, identity) => { if (tokenOf(req) === null) audit(req); return identity })
 * ```
 */
export function tokenOf(req: IncomingMessage): string | null {
  const url = req.url ?? ''
  const q = url.indexOf('?')
  if (q !== -1) {
    const token = new URLSearchParams(url.slice(q + 1)).get('token')
    if (token) return token
  }
  const header = req.headers.authorization
  if (header !== undefined) {
    const match = BEARER.exec(header)
    if (match !== null) return match[1]!
  }
  const protocols = req.headers['sec-websocket-protocol']
  if (protocols !== undefined) {
    for (const offered of protocols.split(',')) {
      const protocol = offered.trim()
      if (protocol.startsWith(SUBPROTOCOL_PREFIX) && protocol.length > SUBPROTOCOL_PREFIX.length) return protocol.slice(SUBPROTOCOL_PREFIX.length)
    }
  }
  return null
}

/**
 * The auth middleware. With no key configured, a node that allows anonymous access runs
 * anonymous-only (a warning says every token will be refused); one that does not throws
 * a `ConfigError` at `app.use()`.
 *
 * @example
 * ```ts
 * import { auth } from 'wshub/middleware/auth'
 * const app = createApp({ auth: { enabled: false } })     // leave the default one out
 * app.use(auth({ secret: process.env.JWT_SECRET, allow_anonymous: false }))
 * ```
 */
export function auth(options: AuthOptions = {}): Middleware {
  if (typeof options !== 'object' || options === null) throw new TypeError('auth(options): options must be an object of auth.* keys')
  let settings: WshubConfig['auth']
  let verifier: TokenVerifier
  let wheel: ExpiryWheel<Connection>
  let app: Application

  /**
   * Checks a token; a refusal is counted (`auth_rejected`) and thrown as a {@link TokenError}.
   * Synchronous for a configured key, a Promise for a key of `auth.jwks_url`.
   */
  function verify(token: string, stage: 'handshake' | 'message'): Identity | Promise<Identity> {
    const refused = (err: unknown): never => {
      if (err instanceof TokenError) app.emit('auth_rejected', { code: err.code, stage })
      throw err
    }
    try {
      const identity = verifier.verify(token)
      return identity instanceof Promise ? identity.catch(refused) : identity
    } catch (err) {
      return refused(err)
    }
  }

  /** A handshake refusal for what verify() threw: 401 with the token's code, or 503 while the provider's keys cannot be fetched. */
  function handshakeRefusal(err: unknown): unknown {
    if (err instanceof TokenError) return new HandshakeError(401, err.message, err.code)
    if (err instanceof KeysUnavailableError) {
      app.log.warn({ err: err.message }, 'auth: token not checked, the key set of auth.jwks_url could not be fetched')
      return new HandshakeError(503, 'the keys to check this token with cannot be fetched now; try again later', ErrorCode.ServerError)
    }
    return err
  }

  function watchExpiry(client: Connection): void {
    if (settings.disconnect_on_expiry && client.expiresAt !== null) wheel.set(client, client.expiresAt)
    else wheel.delete(client)
  }

  /** Takes the `auth.*` keys of a config (at use() and on reload); throws a ConfigError and changes nothing when they cannot work. */
  function configure(config: WshubConfig): void {
    const next = { ...config.auth, ...options }
    const candidate = new TokenVerifier(next)
    if (!candidate.usable && !next.allow_anonymous) {
      throw new ConfigError('auth.secret / auth.public_key: no key to check tokens with, and auth.allow_anonymous is off; set auth.secret (HS256), auth.public_key (RS256/ES256) or auth.jwks_url, or turn auth.allow_anonymous on')
    }
    if (verifier === undefined) verifier = candidate
    else verifier.update(next, next.rotation_grace_ms)
    settings = next
  }

  // Not async itself: every frame but `auth` passes through without a promise of its own.
  const middleware: Middleware = function auth(ctx: Context, next: Next): Promise<void> {
    if (ctx.type !== 'auth') return next()
    return authenticate(ctx)
  }

  /** The `auth` message: replaces the connection's identity. */
  async function authenticate(ctx: Context): Promise<void> {
    // The schema refuses with 1001 and its issues, as a route's does.
    await runCheck(ctx, checkAuthData)
    const token = (ctx.data as { token: string }).token
    let identity: Identity
    try {
      identity = await verify(token, 'message')
    } catch (err) {
      if (err instanceof TokenError) ctx.throw(err.code, err.message)
      if (err instanceof KeysUnavailableError) ctx.throw(ErrorCode.ServerError, 'the keys to check this token with cannot be fetched now; try again later')
      throw err
    }
    await ctx.app.clients.setIdentity(ctx.client, identity)
    watchExpiry(ctx.client)
    ctx.reply('auth_ok', { user_id: identity.userId, expires_at: identity.expiresAt })
  }

  middleware.setup = (target: Application) => {
    app = target
    configure(app.config)
    if (!verifier.usable) {
      app.log.warn('auth: no auth.secret nor auth.public_key for the accepted algorithms: running anonymous-only, every token will be refused (401, code 2003)')
    }
    wheel = new ExpiryWheel((client) => client.close(4001, 'token expired'))
    app.onHandshake(function authHandshake(req: IncomingMessage, identity: Identity): Identity | Promise<Identity> {
      // Node keeps the first of several Authorization headers; a proxy in front may keep the last.
      if ((req.headersDistinct.authorization?.length ?? 0) > 1) {
        app.emit('auth_rejected', { code: ErrorCode.InvalidToken, stage: 'handshake' })
        throw new HandshakeError(401, 'send one Authorization header, not several', ErrorCode.InvalidToken)
      }
      const token = tokenOf(req)
      if (token === null) {
        if (settings.allow_anonymous) return identity
        app.emit('auth_rejected', { code: ErrorCode.Unauthorized, stage: 'handshake' })
        throw new HandshakeError(401, 'a token is required: ?token=<jwt>, Authorization: Bearer <jwt>, or the wshub.bearer.<jwt> subprotocol', ErrorCode.Unauthorized)
      }
      try {
        const verified = verify(token, 'handshake')
        if (verified instanceof Promise) {
          return verified.catch((err) => {
            throw handshakeRefusal(err)
          })
        }
        return verified
      } catch (err) {
        throw handshakeRefusal(err)
      }
    })
    app.on('connection', watchExpiry)
    app.on('disconnect', (client) => wheel.delete(client))
    app.on('reload', (config) => {
      try {
        configure(config)
      } catch (err) {
        app.log.error({ err: (err as Error).message }, 'auth: reload refused, keeping the previous keys')
      }
    })
  }
  return middleware
}
