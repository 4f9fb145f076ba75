/**
 * examples/typed-orders run as a user would (node dist/examples/typed-orders/server.js),
 * with its typed client over real sockets.
 */
import { describe, it, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { WshubClient, WshubError } from 'wshub/client'
import { spawnNode, repoRoot, type NodeProcess } from '../support/process.js'
import { run } from '../../examples/typed-orders/client.js'
import type { App } from '../../examples/typed-orders/server.js'

describe('examples/typed-orders', () => {
  let node: NodeProcess
  let url: string
  before(async () => {
    node = await spawnNode({}, [], `${repoRoot}/dist/examples/typed-orders/server.js`)
    url = `ws://127.0.0.1:${node.port}/ws`
  })
  after(() => node?.child.kill('SIGKILL'))

  it('runs its client script: creates (its on() handler sees the reply), lists, and is refused bad data with each failing field', async () => {
    const lines: string[] = []
    await run(url, (line) => lines.push(line))
    assert.equal(lines.length, 4, lines.join('\n'))
    const id = /^seen: (o-\d+) 2 × tea$/.exec(lines[0]!)?.[1]
    assert.ok(id, lines[0])
    assert.equal(lines[1], `created: ${id} for guest`)
    assert.match(lines[2]!, new RegExp(`^listed: (o-\\d+,)*${id}$`))
    assert.equal(lines[3], 'refused: 1001 sku,qty')
  })

  it("fills the schema's defaults, types the reply, and pushes order_created to the tenant's watchers", async () => {
    const watcher = new WshubClient<App>(url, { reconnect: false })
    const buyer = new WshubClient<App>(url, { reconnect: false })
    try {
      await Promise.all([watcher.connect(), buyer.connect()])
      await watcher.join('orders.guest')
      const pushed = new Promise<string>((resolve) => watcher.on('order_created', (order) => resolve(`${order.sku}:${order.qty}`)))
      const created = await buyer.request('create_order', { sku: 'jam', qty: 3, note: 'strawberry' })
      assert.equal(created.message_type, 'order_created')
      if (created.message_type !== 'order_created') return
      assert.deepEqual({ ...created.data, id: 'x', placed_at: 0 }, { sku: 'jam', qty: 3, note: 'strawberry', id: 'x', tenant: 'guest', placed_at: 0 })
      assert.equal(await pushed, 'jam:3')
      const listed = await buyer.request('list_orders', { limit: 1 })
      assert.ok(listed.message_type === 'orders' && listed.data.orders.length === 1 && listed.data.orders[0]!.id === created.data.id)
      const cancelled = await buyer.request('cancel_order', { id: created.data.id })
      assert.equal(cancelled.message_type, 'order_cancelled')
    } finally {
      await Promise.all([watcher.close(), buyer.close()])
    }
  })

  it('refuses a JSON Schema route its extra keys, and a zod route its bad fields, with 1001 and every path', async () => {
    const client = new WshubClient<App>(url, { reconnect: false })
    try {
      await client.connect()
      const refusal = (p: Promise<unknown>) => p.then(() => assert.fail('accepted'), (err: WshubError) => [err.code, err.details])
      assert.deepEqual(await refusal(client.request('cancel_order', JSON.parse('{"id":"o-1","force":true}'))), [1001, { issues: [{ path: ['force'], message: 'is not allowed' }] }])
      const [code, details] = (await refusal(client.request('create_order', JSON.parse('{"sku":"x","qty":1.5,"note":7}')))) as [number, { issues: Array<{ path: unknown[] }> }]
      assert.equal(code, 1001)
      assert.deepEqual(details.issues.map((issue) => issue.path), [['qty'], ['note']])
    } finally {
      await client.close()
    }
  })
})
