/**
 * The TCP proxy of the network fault tests (test/support/tcp-proxy.ts), against an echo
 * server: each mode does what the fault tests rely on.
 */
import { describe, it, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect, type Server, type Socket } from 'node:net'
import { TcpProxy } from '../support/tcp-proxy.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A connected client that gathers what it receives. */
async function client(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<string> }> {
  const socket = connect(port, '127.0.0.1')
  let data = ''
  socket.on('data', (c: Buffer) => (data += c.toString()))
  const closed = new Promise<string>((resolve) => {
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'))
    socket.on('close', () => resolve('close'))
  })
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  return { socket, received: () => data, closed }
}

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 250 && !check(); i++) await sleep(20)
  assert.ok(check(), what)
}

describe('TcpProxy', () => {
  let echo: Server
  let port: number
  const proxies: TcpProxy[] = []
  before(async () => {
    echo = createServer((s) => s.on('error', () => {}).pipe(s))
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', () => resolve()))
    port = (echo.address() as { port: number }).port
  })
  after(async () => {
    await Promise.all(proxies.map((p) => p.close()))
    echo.close()
  })
  const proxy = async () => {
    const p = await TcpProxy.start(`127.0.0.1:${port}`)
    proxies.push(p)
    return p
  }

  it('passes bytes both ways, in order, with or without a delay', async () => {
    const p = await proxy()
    const c = await client(p.port)
    c.socket.write('a')
    await until(() => c.received() === 'a', 'echoed')
    p.delay(50)
    for (const ch of 'bcdef') c.socket.write(ch)
    await until(() => c.received() === 'abcdef', `in order: ${c.received()}`)
    // Lowering the delay while chunks are on their way must not let later ones overtake them.
    p.delay(200)
    c.socket.write('g')
    await sleep(20)
    p.delay(0)
    c.socket.write('h')
    await until(() => c.received().length === 8, 'all through')
    assert.equal(c.received(), 'abcdefgh')
    c.socket.destroy()
  })

  it('holds bytes and new connections while partitioned, and lets them through on heal', async () => {
    const p = await proxy()
    const c = await client(p.port)
    p.partition()
    c.socket.write('held')
    const late = await client(p.port)
    late.socket.write('late')
    await sleep(200)
    assert.equal(c.received(), '')
    assert.equal(late.received(), '')
    p.heal()
    await until(() => c.received() === 'held' && late.received() === 'late', 'both through after heal')
    c.socket.destroy()
    late.socket.destroy()
  })

  it('freezes the connections open when stalled, for good, while new ones work', async () => {
    const p = await proxy()
    const c = await client(p.port)
    p.stall()
    c.socket.write('lost')
    const fresh = await client(p.port)
    fresh.socket.write('fresh')
    await until(() => fresh.received() === 'fresh', 'a new connection works')
    p.heal()
    await sleep(200)
    assert.equal(c.received(), '', 'a stalled connection never flows again')
    assert.equal(c.socket.destroyed, false, 'and is not closed: no RST, no FIN')
    c.socket.destroy()
    fresh.socket.destroy()
  })

  it('resets every connection when cut, and refuses new ones until heal', async () => {
    const p = await proxy()
    const c = await client(p.port)
    p.cut()
    assert.equal(await c.closed, 'ECONNRESET')
    const refused = connect(p.port, '127.0.0.1')
    const outcome = await new Promise<string>((resolve) => {
      refused.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'))
      refused.on('close', () => resolve('close'))
    })
    assert.ok(['ECONNRESET', 'close'].includes(outcome), outcome)
    p.heal()
    const again = await client(p.port)
    again.socket.write('x')
    await until(() => again.received() === 'x', 'works after heal')
    again.socket.destroy()
  })
})
