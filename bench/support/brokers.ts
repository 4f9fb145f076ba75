/**
 * The bench's own Redis and NATS: started on free ports for a scenario, stopped by PID.
 * The machine's own servers on 6379 and 4222 are never touched.
 */
import { execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cpuSeconds, freePort, sleep, spawnRaised } from './proc.js'

export interface Broker {
  kind: 'redis' | 'nats'
  url: string
  pid: number
  cpuSeconds(): number
  stop(): Promise<void>
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

async function waitForPort(child: ChildProcess, port: number, what: string): Promise<void> {
  const until = Date.now() + 10_000
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode} before listening`)
    if (await canConnect(port)) return
    await sleep(50)
  }
  throw new Error(`${what} did not listen on ${port} within 10 s`)
}

function wrap(kind: Broker['kind'], url: string, child: ChildProcess, cleanup: () => void = () => {}): Broker {
  return {
    kind,
    url,
    pid: child.pid!,
    cpuSeconds: () => cpuSeconds(child.pid!),
    async stop() {
      if (child.exitCode !== null) return
      const gone = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await gone
      clearTimeout(timer)
      cleanup()
    },
  }
}

/** Starts a throw-away redis-server (no persistence) on a free port. */
export async function startRedis(): Promise<Broker> {
  const port = await freePort()
  const child = spawnRaised('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxclients', '10000'])
  await waitForPort(child, port, 'redis-server')
  return wrap('redis', `redis://127.0.0.1:${port}`, child)
}

/** Starts a throw-away nats-server with JetStream (wshub keeps its NATS state in JetStream KV) on a free port. */
export async function startNats(): Promise<Broker> {
  const port = await freePort()
  const store = mkdtempSync(join(tmpdir(), 'wshub-bench-nats-'))
  const child = spawnRaised('nats-server', ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store])
  const cleanup = () => rmSync(store, { recursive: true, force: true })
  try {
    await waitForPort(child, port, 'nats-server')
  } catch (err) {
    child.kill('SIGKILL')
    cleanup()
    throw err
  }
  return wrap('nats', `nats://127.0.0.1:${port}`, child, cleanup)
}

/** The broker's version line, or null where it is not installed. */
export function brokerVersion(kind: Broker['kind']): string | null {
  try {
    const out = execFileSync(kind === 'redis' ? 'redis-server' : 'nats-server', ['--version']).toString().trim()
    return out.split('\n')[0]!
  } catch {
    return null
  }
}
