/**
 * The typed client of the orders example: `WshubClient<App>` checks each request's data
 * against the server's schemas at compile time and types every reply and pushed frame.
 *
 *   node dist/examples/typed-orders/client.js ws://127.0.0.1:8080/ws
 */
import { WshubClient, WshubError } from 'wshub/client'
import type { App } from './server.js'

export async function run(url: string, log: (line: string) => void = console.log): Promise<void> {
  const client = new WshubClient<App>(url, { reconnect: false })
  // Every order_created frame: the reply to this client's own request (on() sees replies
  // too), and the server's push for orders other clients of the tenant place.
  client.on('order_created', (order) => log(`seen: ${order.id} ${order.qty} × ${order.sku}`))
  await client.connect()
  try {
    await client.join('orders.guest')
    const created = await client.request('create_order', { sku: 'tea', qty: 2 })
    // A repeat of a request (a retry after a reconnect) is answered with an ack: narrow on the type.
    if (created.message_type === 'order_created') log(`created: ${created.data.id} for ${created.data.tenant}`)
    const listed = await client.request('list_orders')
    if (listed.message_type === 'orders') log(`listed: ${listed.data.orders.map((order) => order.id).join(',')}`)
    try {
      // Checked on the server, not only by the types: this frame is sent as JSON anyway.
      await client.request('create_order', JSON.parse('{"sku":"","qty":0}'))
    } catch (err) {
      if (!(err instanceof WshubError)) throw err
      const issues = (err.details as { issues: Array<{ path: unknown[]; message: string }> }).issues
      log(`refused: ${err.code} ${issues.map((issue) => issue.path.join('.')).join(',')}`)
    }
  } finally {
    await client.close()
  }
}

if (process.argv[1]?.endsWith('client.js')) await run(process.argv[2] ?? 'ws://127.0.0.1:8080/ws')
