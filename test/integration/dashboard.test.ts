/**
 * The dashboard's files over real HTTP: when a node serves them (http.dashboard, or
 * http.admin_token with `auto`), where (the admin listener when there is one), and with
 * which headers. What the page does is test/e2e/dashboard.test.ts, in Chromium.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import pino from 'pino'
import { nodesClosedAfter } from '../support/node.js'
import { callApi } from '../support/http.js'

const startNode = nodesClosedAfter()
const TOKEN = 'dashboard-test-token'

describe('GET /admin', () => {
  it('is not served by default (no admin token, http.dashboard auto)', async () => {
    const node = await startNode()
    assert.equal((await fetch(`${node.http}/admin`)).status, 404)
  })

  it('is served when http.admin_token is set, with no credentials needed for the page itself', async () => {
    const node = await startNode({ http: { admin_token: TOKEN } })
    const res = await fetch(`${node.http}/admin`)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8')
    const html = await res.text()
    assert.match(html, /<title>wshub admin<\/title>/)
    assert.ok(!html.includes(TOKEN))
    // The API behind it still needs the token.
    assert.equal((await callApi(node.http, '/api/stats')).status, 401)
  })

  it('is served with http.dashboard true and no admin token (log in with an admin:system JWT)', async () => {
    const node = await startNode({ http: { dashboard: true }, auth: { secret: 's' } })
    assert.equal((await fetch(`${node.http}/admin/`)).status, 200)
  })

  it('warns at start when it is served but no one can log in (no admin token, no JWT key), and only then', async () => {
    const warnings = async (config: Parameters<typeof startNode>[0]) => {
      const lines: Array<{ level: number; msg: string }> = []
      const sink = new Writable({ write(chunk, _enc, done) { lines.push(JSON.parse(chunk.toString())); done() } })
      await startNode(config, { logger: pino({ level: 'warn' }, sink) })
      return lines.filter((l) => l.level === 40 && /dashboard/.test(l.msg)).map((l) => l.msg)
    }
    const [warning, ...more] = await warnings({ http: { dashboard: true } })
    assert.match(warning ?? '', /nobody can log in/)
    assert.match(warning!, /http\.admin_token/)
    assert.match(warning!, /auth\.secret/)
    assert.equal(more.length, 0)
    assert.deepEqual(await warnings({ http: { dashboard: true }, auth: { secret: 's' } }), [])
    assert.deepEqual(await warnings({ http: { admin_token: TOKEN } }), [])
    assert.deepEqual(await warnings({}), [])
  })

  it('is not served with http.dashboard false, even with an admin token', async () => {
    const node = await startNode({ http: { dashboard: false, admin_token: TOKEN } })
    assert.equal((await fetch(`${node.http}/admin`)).status, 404)
    assert.equal((await callApi(node.http, '/api/stats', { token: TOKEN })).status, 200)
  })

  it('serves every file the page loads, each with its type, and a CSP that keeps the page to its own origin', async () => {
    const node = await startNode({ http: { admin_token: TOKEN } })
    const html = await (await fetch(`${node.http}/admin`)).text()
    const assets = [...html.matchAll(/(?:src|href)="(\/admin\/[^"]+)"/g)].map((m) => m[1]!)
    assert.deepEqual(assets.sort(), ['/admin/dashboard.css', '/admin/dashboard.js'])
    const js = await (await fetch(`${node.http}/admin/dashboard.js`)).text()
    for (const imported of js.matchAll(/from '\.\/([^']+)'/g)) assets.push(`/admin/${imported[1]}`)
    assert.ok(assets.includes('/admin/dashboard-api.js') && assets.includes('/admin/line-chart.js'), assets.join(' '))
    for (const path of assets) {
      const res = await fetch(`${node.http}${path}`)
      assert.equal(res.status, 200, path)
      assert.match(res.headers.get('content-type')!, path.endsWith('.css') ? /^text\/css/ : /^text\/javascript/, path)
      const csp = res.headers.get('content-security-policy')!
      assert.match(csp, /default-src 'none'/)
      assert.match(csp, /connect-src 'self'/)
      assert.match(csp, /frame-ancestors 'none'/)
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
    }
  })

  it('answers 404 to a file it does not have (no path outside its folder) and 405 to a POST', async () => {
    const node = await startNode({ http: { admin_token: TOKEN } })
    for (const path of ['/admin/nope.js', '/admin/../package.json', '/admin/%2e%2e/package.json', '/admin/public/index.html']) {
      assert.equal((await fetch(`${node.http}${path}`)).status, 404, path)
    }
    const post = await fetch(`${node.http}/admin`, { method: 'POST' })
    assert.equal(post.status, 405)
    assert.equal(post.headers.get('allow'), 'GET, HEAD')
  })

  it('is served on the admin listener only when http.admin_address is set', async () => {
    const node = await startNode({ http: { admin_token: TOKEN, admin_address: '127.0.0.1:0' } })
    const adminBase = `http://127.0.0.1:${node.app.server.adminAddress()!.port}`
    assert.equal((await fetch(`${adminBase}/admin`)).status, 200)
    assert.equal((await fetch(`${node.http}/admin`)).status, 404)
  })
})
