/**
 * Starts a real node in this process on a free loopback port, for tests that need real
 * sockets but not a separate process.
 */
import { createApp, type Application, type AppOptions } from '../../lib/application.js'
import type { ConfigInput } from '../../lib/config.js'
import { pino } from 'pino'
import { after } from 'node:test'
import { TestClient } from './ws-client.js'
import { MemoryBus, MemoryHub } from '../../lib/bus/memory.js'
import { MemoryState } from '../../lib/cluster/memory.js'
import type WebSocket from 'ws'

export interface TestNode {
  app: Application
  port: number
  url: string
  http: string
  connect(query?: string, options?: WebSocket.ClientOptions & { protocols?: string[] }): Promise<TestClient>
  close(): Promise<void>
}

/** Silent unless WSHUB_TEST_LOG=1. */
export function testLogger() {
  return pino({ level: process.env.WSHUB_TEST_LOG ? 'debug' : 'silent' })
}

export async function startNode(config: ConfigInput = {}, options: AppOptions = {}): Promise<TestNode> {
  const merged: ConfigInput = { ...config, http: { host: '127.0.0.1', port: 0, ...config.http } }
  const app = createApp(merged, { logger: testLogger(), ...options })
  const address = await app.listen()
  const port = address.port
  const clients: TestClient[] = []
  return {
    app,
    port,
    url: `ws://127.0.0.1:${port}${app.config.ws.path}`,
    http: `http://127.0.0.1:${port}`,
    async connect(query = '', opts = {}) {
      const client = await TestClient.connect(`ws://127.0.0.1:${port}${app.config.ws.path}${query}`, opts)
      clients.push(client)
      return client
    },
    async close() {
      for (const c of clients) c.socket.terminate()
      await app.close()
    },
  }
}

/**
 * A `startNode` whose nodes are all closed after the test file: for files that start a
 * node per test with its own config.
 */
export function nodesClosedAfter(): (...args: Parameters<typeof startNode>) => Promise<TestNode> {
  const nodes: TestNode[] = []
  after(() => Promise.all(nodes.map((n) => n.close())))
  return async (...args) => {
    const node = await startNode(...args)
    nodes.push(node)
    return node
  }
}

/** Two in-process nodes joined by one memory hub and one memory state: a cluster in miniature. */
export async function startMemoryPair(config: ConfigInput = {}, options: AppOptions = {}): Promise<[TestNode, TestNode]> {
  const hub = new MemoryHub()
  const state = new MemoryState()
  const a = await startNode(config, { ...options, bus: new MemoryBus(hub), state })
  const b = await startNode(config, { ...options, bus: new MemoryBus(hub), state })
  return [a, b]
}
