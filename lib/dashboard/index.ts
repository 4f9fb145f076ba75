/**
 * The admin dashboard: a page served at `/admin` (on the admin listener when
 * `http.admin_address` is set) that shows the cluster live and acts on it through the
 * HTTP API alone. Its files (lib/dashboard/public/) are plain HTML, CSS and JavaScript
 * modules: no build step. The page itself is public; every figure and action needs the
 * admin token or an `admin:system` JWT, which the page keeps in memory only.
 */
import { readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Logger } from 'pino'
import type { HttpHandler } from '../http-listeners.js'
import type { WshubConfig } from '../config.js'
import { TokenVerifier } from '../token.js'

/** Where the page is served. */
export const DASHBOARD_PATH = '/admin'

// From dist/lib/dashboard/ (and from the published package) back to the sources' files.
const PUBLIC_DIR = new URL('../../../lib/dashboard/public/', import.meta.url)

const FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'dashboard.js': 'text/javascript; charset=utf-8',
  'dashboard-api.js': 'text/javascript; charset=utf-8',
  'line-chart.js': 'text/javascript; charset=utf-8',
  'dashboard.css': 'text/css; charset=utf-8',
}

// The page runs its own scripts and talks to its own origin, nothing else; no framing.
const HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
}

/**
 * Whether a node with this config serves the dashboard: `http.dashboard` true, or
 * `auto` (the default) with `http.admin_token` set.
 *
 * @example
 * ```ts
 * dashboardEnabled(resolveConfig({ http: { admin_token: 'change-me' } }))   // true
 * ```
 */
export function dashboardEnabled(config: Pick<WshubConfig, 'http'>): boolean {
  const { dashboard, admin_token } = config.http
  return dashboard === true || (dashboard === 'auto' && admin_token !== '')
}

/**
 * Serves the dashboard on the app's admin listener (or its only one), when
 * {@link dashboardEnabled}; `Application` calls it with the HTTP API.
 *
 * @example
 * ```ts
 * const app = new Application(resolveConfig({ http: { dashboard: true } }))   // installs it
 * // open http://127.0.0.1:8080/admin and log in with the admin token or an admin:system JWT
 * ```
 */
export function installDashboard(app: { readonly config: Pick<WshubConfig, 'http' | 'auth'>; readonly log: Logger; onHttp(handler: HttpHandler, options?: { admin?: boolean }): unknown }): void {
  if (!dashboardEnabled(app.config)) return
  if (app.config.http.admin_token === '' && !new TokenVerifier(app.config.auth).usable) {
    app.log.warn('dashboard: served at /admin, but nobody can log in: set http.admin_token, or auth.secret / auth.public_key / auth.jwks_url for JWTs granting admin:system')
  }
  const files = new Map<string, { body: Buffer; type: string }>()
  for (const [name, type] of Object.entries(FILES)) files.set(name, { body: readFileSync(new URL(name, PUBLIC_DIR)), type })
  app.onHttp(
    function dashboard(req: IncomingMessage, res: ServerResponse): boolean {
      const url = req.url ?? '/'
      const cut = url.indexOf('?')
      const path = cut === -1 ? url : url.slice(0, cut)
      if (path !== DASHBOARD_PATH && !path.startsWith(`${DASHBOARD_PATH}/`)) return false
      const name = path === DASHBOARD_PATH || path === `${DASHBOARD_PATH}/` ? 'index.html' : path.slice(DASHBOARD_PATH.length + 1)
      const file = files.get(name)
      if (file === undefined) return notFound(res, path)
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' }).end(JSON.stringify({ code: 1001, message: `${req.method} is not allowed on ${path}` }))
        return true
      }
      res.writeHead(200, { ...HEADERS, 'content-type': file.type, 'content-length': String(file.body.length) })
      res.end(req.method === 'HEAD' ? undefined : file.body)
      return true
    },
    { admin: true },
  )
}

function notFound(res: ServerResponse, path: string): true {
  res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 404, message: `no dashboard file ${path}` }))
  return true
}
