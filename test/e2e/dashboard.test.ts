/**
 * The admin dashboard in a real browser: headless Chromium opens /admin on node 1 of a
 * two-node cluster joined by a real Redis (started by the test on a free port), logs in,
 * watches clients of node 2 appear, kicks one and then every connection of a user,
 * broadcasts, and creates and deletes a room. Screenshots go to test/e2e/artifacts/
 * (dashboard-*.png) for a person to look at.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import jwt from 'jsonwebtoken'
import type { Page } from 'playwright-core'
import { artifacts, openBrowser, skipWithoutChromium, type TestBrowser } from '../support/chromium.js'
import { createApp, type Application } from '../../lib/application.js'
import { startRedis, skipUnless, testPrefix, type Service } from '../support/services.js'
import { testLogger } from '../support/node.js'
import { TestClient } from '../support/ws-client.js'

const skip = skipWithoutChromium || skipUnless('redis')
const SECRET = 'dashboard-e2e-secret'
const ADMIN_TOKEN = 'dashboard-e2e-admin-token'
const TIMEOUT = 15_000

const userToken = (sub: string) => jwt.sign({ sub, permissions: ['join:room', 'leave:room', 'send:message', 'create:room'] }, SECRET, { expiresIn: '1h' })

describe('the admin dashboard in a browser', () => {
  let browser: TestBrowser | null = null
  let redis: Service | null = null
  const nodes: Array<{ app: Application; base: string; ws: string }> = []
  const clients: TestClient[] = []

  before(async () => {
    if (skip) return
    redis = await startRedis()
    const prefix = testPrefix()
    for (let i = 0; i < 2; i++) {
      const app = createApp(
        {
          http: { host: '127.0.0.1', port: 0, admin_token: ADMIN_TOKEN },
          cluster: { node_id: `dash-${i + 1}`, bus: 'redis', redis: { url: redis.url }, prefix },
          auth: { secret: SECRET },
        },
        { logger: testLogger() },
      )
      const { port } = await app.listen()
      nodes.push({ app, base: `http://127.0.0.1:${port}`, ws: `ws://127.0.0.1:${port}/ws` })
    }
    browser = await openBrowser({ width: 1200, height: 1000 })
  })

  after(async () => {
    for (const client of clients) client.socket.terminate()
    await browser?.close()
    for (const node of nodes) await node.app.close()
    await redis?.stop()
  })

  async function connect(node: number, user: string | null): Promise<TestClient> {
    const client = await TestClient.connect(`${nodes[node]!.ws}${user === null ? '' : `?token=${userToken(user)}`}`)
    clients.push(client)
    return client
  }

  /** Opens the dashboard; collects the page's errors into `errors`. */
  async function open(errors: string[], requests: Array<{ url: string; authorization: string | undefined }> = []): Promise<Page> {
    const page = await browser!.context.newPage()
    page.on('request', (req) => requests.push({ url: req.url(), authorization: req.headers().authorization }))
    page.on('pageerror', (err) => errors.push(err.message))
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(msg.text())
    })
    await page.goto(`${nodes[0]!.base}/admin`)
    await page.waitForSelector('body[data-ready="true"]', { timeout: TIMEOUT })
    return page
  }

  async function logIn(page: Page, token: string): Promise<void> {
    await page.fill('#token', token)
    await page.click('#login-form button[type=submit]')
  }

  const row = (page: Page, selector: string) => page.locator(selector).first().waitFor({ timeout: TIMEOUT })
  const gone = (page: Page, selector: string) => page.locator(selector).first().waitFor({ state: 'detached', timeout: TIMEOUT })

  it('logs in, watches clients appear, kicks a client and a user, broadcasts, and creates and deletes a room', { skip, timeout: 120_000 }, async () => {
    const errors: string[] = []
    const requests: Array<{ url: string; authorization: string | undefined }> = []
    const page = await open(errors, requests)

    // A wrong token is refused, and the page says so.
    await logIn(page, 'not-the-token')
    await page.locator('#login-error', { hasText: 'Not accepted' }).waitFor({ timeout: TIMEOUT })
    assert.equal(await page.isVisible('#dashboard'), false)
    // The browser's own line for the refused request is not the page's error.
    errors.length = 0

    await logIn(page, ADMIN_TOKEN)
    await page.waitForSelector('#dashboard:not([hidden])', { timeout: TIMEOUT })
    await page.locator('#live[data-state="live"]').waitFor({ timeout: TIMEOUT })
    for (const node of ['dash-1', 'dash-2']) await row(page, `#nodes tr[data-node="${node}"]`)
    assert.equal(await page.textContent('#nodes tr[data-node="dash-2"] .bus'), 'up')
    assert.equal(await page.textContent('#served-by'), 'via dash-1')

    // The token is in no URL, no storage and no cookie, and the field was cleared.
    assert.ok(!page.url().includes(ADMIN_TOKEN))
    const kept = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie, field: (document.getElementById('token') as HTMLInputElement).value }))
    assert.deepEqual(kept, { local: 0, session: 0, cookie: '', field: '' })
    // The stats stream is read with the token in its Authorization header, not its URL.
    const stream = requests.find((r) => new URL(r.url).pathname === '/api/stats/stream')
    assert.equal(stream?.authorization, `Bearer ${ADMIN_TOKEN}`)
    await page.screenshot({ path: join(artifacts, 'dashboard-logged-in.png'), fullPage: true })

    // A client on node 2 appears in the list, with its user and node.
    const bob = await connect(1, 'bob')
    await bob.request('join_room', { room_id: 'lobby' })
    const bobRow = `#clients tr[data-client="${bob.id}"]`
    await row(page, bobRow)
    assert.equal(await page.textContent(`${bobRow} .user`), 'bob')
    await page.locator('#rooms tr[data-room="lobby"] .members', { hasText: '1' }).waitFor({ timeout: TIMEOUT })
    await page.locator('#nodes tr[data-node="dash-2"] .clients', { hasText: '1' }).waitFor({ timeout: TIMEOUT })
    await page.screenshot({ path: join(artifacts, 'dashboard-client-appears.png'), fullPage: true })

    // Search by user id and by room.
    const anon = await connect(0, null)
    await row(page, `#clients tr[data-client="${anon.id}"]`)
    await page.fill('#search-user', 'bob')
    await page.click('#client-search button[type=submit]')
    await gone(page, `#clients tr[data-client="${anon.id}"]`)
    assert.deepEqual(await page.$$eval('#clients tbody tr', (rows) => rows.map((r) => (r as HTMLElement).dataset.client)), [bob.id])
    await page.fill('#search-user', '')
    await page.fill('#search-room', 'lobby')
    await page.click('#client-search button[type=submit]')
    await page.locator('#client-count', { hasText: '(1 matching)' }).waitFor({ timeout: TIMEOUT })
    await page.click('#search-clear')
    await row(page, `#clients tr[data-client="${anon.id}"]`)

    // Kick bob: his socket closes with 4000 and his row goes.
    await page.click(`${bobRow} button.kick-client`)
    assert.equal((await bob.waitClose(TIMEOUT)).code, 4000)
    await gone(page, bobRow)
    await page.locator('#flash', { hasText: `Kicked ${bob.id}.` }).waitFor({ timeout: TIMEOUT })

    // Kick a user: both of carol's connections, one on each node.
    const carols = [await connect(0, 'carol'), await connect(1, 'carol')]
    for (const carol of carols) await row(page, `#clients tr[data-client="${carol.id}"]`)
    await page.click(`#clients tr[data-client="${carols[1]!.id}"] button.kick-user`)
    for (const carol of carols) assert.equal((await carol.waitClose(TIMEOUT)).code, 4000)
    await page.locator('#flash', { hasText: 'Kicked 2 connections of user carol.' }).waitFor({ timeout: TIMEOUT })
    for (const carol of carols) await gone(page, `#clients tr[data-client="${carol.id}"]`)
    await page.screenshot({ path: join(artifacts, 'dashboard-after-kicks.png'), fullPage: true })

    // Broadcast: a client on node 2 gets it.
    const listener = await connect(1, null)
    await page.fill('#broadcast-message', '{"notice":"from the dashboard"}')
    await page.click('#broadcast-form button[type=submit]')
    const frame = await listener.next('broadcast', TIMEOUT)
    assert.deepEqual(frame.data, { message: { notice: 'from the dashboard' } })
    await page.locator('#flash', { hasText: 'Broadcast sent' }).waitFor({ timeout: TIMEOUT })

    // Create a room with a limit, see it, delete it.
    await page.fill('#room-id', 'e2e-room')
    await page.fill('#room-max', '5')
    await page.click('#room-form button[type=submit]')
    await row(page, '#rooms tr[data-room="e2e-room"]')
    assert.equal(await page.textContent('#rooms tr[data-room="e2e-room"] td:nth-child(4)'), '5')
    assert.equal((await nodes[1]!.app.rooms.get('e2e-room'))?.max_clients, 5)
    await page.click('#rooms tr[data-room="e2e-room"] button.delete-room')
    await gone(page, '#rooms tr[data-room="e2e-room"]')
    assert.equal(await nodes[1]!.app.rooms.get('e2e-room'), null)

    // The charts have drawn lines from the stream.
    await page.waitForFunction(() => document.querySelectorAll('#chart-connections polyline').length === 1 && document.querySelectorAll('#chart-messages polyline').length === 2, null, { timeout: TIMEOUT })
    await page.screenshot({ path: join(artifacts, 'dashboard-charts.png'), fullPage: true })

    // Log out: the lists are emptied and the login form is back.
    await page.click('#logout')
    await page.waitForSelector('#login:not([hidden])', { timeout: TIMEOUT })
    assert.equal(await page.$$eval('#clients tbody tr', (rows) => rows.length), 0)
    await page.close()
    assert.deepEqual(errors, [])
    // No request of the whole session carried the token in its URL; every API call sent it as a header.
    assert.ok(requests.length > 20, `${requests.length} requests`)
    for (const r of requests) assert.ok(!r.url.includes(ADMIN_TOKEN) && !r.url.includes(encodeURIComponent(ADMIN_TOKEN)), r.url)
    for (const r of requests.filter((r) => new URL(r.url).pathname.startsWith('/api/'))) assert.match(r.authorization ?? '', /^Bearer /, r.url)
  })

  it('logs in with a JWT granting admin:system, and refuses one that does not', { skip, timeout: 60_000 }, async () => {
    const errors: string[] = []
    const page = await open(errors)
    await logIn(page, jwt.sign({ sub: 'ops', permissions: ['join:room'] }, SECRET, { expiresIn: '1h' }))
    await page.locator('#login-error', { hasText: 'admin:system' }).waitFor({ timeout: TIMEOUT })
    errors.length = 0
    await logIn(page, jwt.sign({ sub: 'ops', permissions: ['admin:system'] }, SECRET, { expiresIn: '1h' }))
    await page.locator('#live[data-state="live"]').waitFor({ timeout: TIMEOUT })
    await row(page, '#nodes tr[data-node="dash-2"]')
    await page.close()
    assert.deepEqual(errors, [])
  })

  it('logs out by itself, saying why, when its JWT expires', { skip, timeout: 60_000 }, async () => {
    const errors: string[] = []
    const page = await open(errors)
    await logIn(page, jwt.sign({ sub: 'ops', permissions: ['admin:system'], exp: Math.floor(Date.now() / 1000) + 2 }, SECRET))
    await page.locator('#live[data-state="live"]').waitFor({ timeout: TIMEOUT })
    await page.locator('#login-error', { hasText: 'Logged out: the token has expired.' }).waitFor({ timeout: TIMEOUT })
    assert.equal(await page.isVisible('#dashboard'), false)
    assert.equal(await page.textContent('#live'), 'not logged in')
    await page.close()
    // Only the browser's own lines for refused requests, if any.
    assert.deepEqual(errors.filter((e) => !/status of 401/.test(e)), [])
  })
})
