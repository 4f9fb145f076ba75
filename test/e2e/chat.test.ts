/**
 * The chat example in a real browser: headless Chromium opens the page twice, once on
 * each of two nodes of a cluster joined by a real Redis (started by the test on a free
 * port), and the two pages chat in one room.
 * Screenshots go to test/e2e/artifacts/.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import jwt from 'jsonwebtoken'
import type { Page } from 'playwright-core'
import { artifacts, openBrowser, skipWithoutChromium, type TestBrowser } from '../support/chromium.js'
import { createChatApp } from '../../examples/chat/server.js'
import { startRedis, skipUnless, testPrefix, type Service } from '../support/services.js'
import type { Application } from '../../lib/application.js'
import { testLogger } from '../support/node.js'

const skip = skipWithoutChromium || skipUnless('redis')
const SECRET = 'chat-e2e-secret'
const TIMEOUT = 15_000

/** Two chat nodes on one Redis (bus and state), under a prefix of their own. */
class ChatCluster {
  readonly prefix = testPrefix()
  readonly nodes: Array<{ app: Application; port: number; base: string }> = []

  constructor(private readonly redis: Service) {}

  /** Starts node `i` (again, on the same port, after `stop(i)`). */
  async start(i: number): Promise<Application> {
    const port = this.nodes[i]?.port ?? 0
    const app = createChatApp(
      {
        http: { host: '127.0.0.1', port },
        cluster: { node_id: `chat-${i + 1}`, bus: 'redis', redis: { url: this.redis.url }, prefix: this.prefix },
        auth: { secret: SECRET },
      },
      { logger: testLogger() },
    )
    const address = await app.listen()
    this.nodes[i] = { app, port: address.port, base: `http://127.0.0.1:${address.port}` }
    return app
  }

  stop(i: number): Promise<void> {
    return this.nodes[i]!.app.close()
  }

  async close(): Promise<void> {
    for (const node of this.nodes) await node.app.close()
  }
}

describe('examples/chat in a browser', () => {
  let browser: TestBrowser | null = null
  let redis: Service | null = null
  const clusters: ChatCluster[] = []

  before(async () => {
    if (skip) return
    redis = await startRedis()
    browser = await openBrowser({ width: 900, height: 560 })
  })

  after(async () => {
    await browser?.close()
    for (const cluster of clusters) await cluster.close()
    await redis?.stop()
  })

  async function cluster(): Promise<ChatCluster> {
    const c = new ChatCluster(redis!)
    clusters.push(c)
    await c.start(0)
    await c.start(1)
    return c
  }

  /** Opens the chat page; collects the page's errors into `errors`. */
  async function open(base: string, query: string, errors: string[]): Promise<Page> {
    const page = await browser!.context.newPage()
    page.on('pageerror', (err) => errors.push(`${query}: ${err.message}`))
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push(`${query}: ${msg.text()}`)
    })
    await page.goto(`${base}/?${query}`)
    await page.waitForSelector('body[data-ready="true"]', { timeout: TIMEOUT })
    return page
  }

  async function say(page: Page, text: string): Promise<void> {
    await page.fill('#text', text)
    await page.click('#composer button')
    // Shown at once as pending; the class goes once the server acked it.
    await page.locator('#messages li.mine:not(.pending)', { hasText: text }).waitFor({ timeout: TIMEOUT })
  }

  const sees = (page: Page, selector: string, text: string) => page.locator(selector, { hasText: text }).waitFor({ timeout: TIMEOUT })
  const badge = (page: Page) => page.$eval('#connection', (el) => ({ state: (el as HTMLElement).dataset.state, text: el.textContent }))

  it('lets a user on node 1 and a user on node 2 chat in one room, with history, presence and the connection state', { skip, timeout: 90_000 }, async () => {
    const chat = await cluster()
    const errors: string[] = []
    const offered: string[] = []
    chat.nodes[1]!.app.onHandshake((req, identity) => {
      offered.push(String(req.headers['sec-websocket-protocol']))
      return identity
    })
    const alice = await open(chat.nodes[0]!.base, 'room=e2e&name=alice', errors)
    assert.deepEqual(await badge(alice), { state: 'open', text: 'connected · chat-1' })
    await say(alice, 'first message, before bob arrives')

    const bobToken = jwt.sign({ sub: 'bob', permissions: ['join:room', 'leave:room', 'send:message', 'create:room'] }, SECRET, { expiresIn: '1h' })
    const bob = await open(chat.nodes[1]!.base, `room=e2e&name=bob&token=${bobToken}`, errors)
    assert.deepEqual(await badge(bob), { state: 'open', text: 'connected · chat-2' })
    assert.deepEqual(offered[0]!.split(',').map((p) => p.trim()), ['wshub.v1', `wshub.bearer.${bobToken}`], 'the browser sent the token in the subprotocol list')
    await sees(bob, '#messages li', 'first message, before bob arrives')

    // Presence across nodes: each page lists both, by name.
    await sees(alice, '#members li', 'bob')
    await sees(bob, '#members li', 'alice')
    assert.equal(await alice.textContent('#member-count'), '(2)')
    assert.equal(await bob.textContent('#member-count'), '(2)')

    await say(bob, 'hi alice, bob here on node 2')
    await sees(alice, '#messages li', 'hi alice, bob here on node 2')
    await say(alice, 'hello bob, alice on node 1')
    await sees(bob, '#messages li', 'hello bob, alice on node 1')

    await alice.screenshot({ path: join(artifacts, 'chat-alice-node1.png') })
    await bob.screenshot({ path: join(artifacts, 'chat-bob-node2.png') })

    // Leaving shows in the other page's presence list.
    await bob.close()
    await alice.waitForFunction(() => document.querySelector('#member-count')?.textContent === '(1)', null, { timeout: TIMEOUT })
    await alice.close()
    assert.deepEqual(errors, [])
  })

  it('shows a page reconnecting when its node restarts, and replays what it missed', { skip, timeout: 90_000 }, async () => {
    const chat = await cluster()
    const errors: string[] = []
    const alice = await open(chat.nodes[0]!.base, 'room=restart&name=alice', errors)
    const bob = await open(chat.nodes[1]!.base, 'room=restart&name=bob', errors)
    await sees(alice, '#members li', 'bob')

    await chat.stop(0)
    await alice.waitForFunction(() => document.querySelector('#connection')?.getAttribute('data-state') === 'reconnecting', null, { timeout: TIMEOUT })
    await say(bob, 'sent while alice was away')
    await alice.screenshot({ path: join(artifacts, 'chat-alice-reconnecting.png') })

    await chat.start(0)
    await sees(alice, '#messages li.notice', 'reconnected: nothing was missed')
    await sees(alice, '#messages li', 'sent while alice was away')
    assert.deepEqual(await badge(alice), { state: 'open', text: 'connected · chat-1' })
    await alice.screenshot({ path: join(artifacts, 'chat-alice-recovered.png') })
    await alice.close()
    await bob.close()
    // The page's own reconnect attempts while the node is down are failed loads for the browser.
    assert.deepEqual(errors.filter((e) => !/WebSocket connection to .* failed/.test(e)), [])
  })
})
