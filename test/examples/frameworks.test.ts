import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import type { Server } from 'node:http'
import { spawn } from 'node:child_process'
import type { Application } from '../../lib/application.js'
import { startExpress } from '../../examples/express/server.js'
import { startKoa } from '../../examples/koa/server.js'
import { startFastify } from '../../examples/fastify/server.js'
import { startHono } from '../../examples/hono/server.js'
import { TestClient } from '../support/ws-client.js'
import { repoRoot } from '../support/process.js'

interface Started {
  server: Server
  hub: Application
  port: number
}

const quiet = { log: { level: 'silent' as const } }

const frameworks: Array<[string, () => Promise<Started>, string]> = [
  ['express', () => startExpress(0, quiet), 'from express'],
  ['koa', () => startKoa(0, quiet), 'from koa'],
  ['fastify', () => startFastify(0, quiet), 'from fastify'],
  ['hono', () => startHono(0, quiet), 'from hono'],
]

for (const [name, start, hello] of frameworks) {
  describe(`examples/${name}`, () => {
    it('serves its own route, the node\'s /health and a WebSocket on one port', async () => {
      const { server, hub, port } = await start()
      try {
        const res = await fetch(`http://127.0.0.1:${port}/hello`)
        assert.equal(res.status, 200)
        assert.deepEqual(await res.json(), { hello })
        const health = await fetch(`http://127.0.0.1:${port}/health`)
        assert.equal(health.status, 200)
        assert.equal(((await health.json()) as { node_id: string }).node_id, hub.nodeId)
        const client = await TestClient.connect(`ws://127.0.0.1:${port}/ws`)
        const reply = await client.request('echo', { n: 1 })
        assert.equal(reply.message_type, 'echo_reply')
        assert.deepEqual(reply.data, { n: 1 })
        client.close()
      } finally {
        await hub.close()
        await new Promise((resolve) => server.close(resolve))
      }
    })

    it('drains wshub\'s clients on hub.close() while the framework goes on answering', async () => {
      const { server, hub, port } = await start()
      try {
        const client = await TestClient.connect(`ws://127.0.0.1:${port}/ws`)
        const closing = client.waitClose(5000)
        await hub.close()
        assert.equal((await closing).code, 1001)
        assert.equal(server.listening, true)
        const res = await fetch(`http://127.0.0.1:${port}/hello`)
        assert.equal(res.status, 200)
        assert.deepEqual(await res.json(), { hello })
        // No WebSocket endpoint any more: the upgrade gets no 101.
        await assert.rejects(TestClient.connect(`ws://127.0.0.1:${port}/ws`))
      } finally {
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
      }
    })
  })
}

describe('examples/<framework>/server.js run as a program', () => {
  for (const name of ['express', 'koa', 'fastify', 'hono']) {
    it(`${name}: serves /hello and /ws on PORT and exits 0 on SIGTERM`, async () => {
      const child = spawn(process.execPath, [`${repoRoot}/dist/examples/${name}/server.js`], { env: { ...process.env, PORT: '0' }, stdio: ['ignore', 'pipe', 'pipe'] })
      try {
        const port = await new Promise<number>((resolve, reject) => {
          let out = ''
          child.stdout.on('data', (chunk: Buffer) => {
            out += chunk.toString()
            const match = /"port":(\d+)[^\n]*with wshub on one port/.exec(out)
            if (match) resolve(Number(match[1]))
          })
          child.once('exit', (code) => reject(new Error(`exited with ${code} before listening: ${out}`)))
        })
        assert.equal((await fetch(`http://127.0.0.1:${port}/hello`)).status, 200)
        const client = await TestClient.connect(`ws://127.0.0.1:${port}/ws`)
        assert.equal((await client.request('echo', 'hi')).data, 'hi')
        const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
        child.kill('SIGTERM')
        assert.equal((await client.waitClose(5000)).code, 1001)
        assert.equal(await exited, 0)
      } finally {
        child.kill('SIGKILL')
      }
    })
  }
})
