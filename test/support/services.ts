/**
 * Real Redis and NATS servers for tests: each started on a free loopback port with its
 * own data directory, stopped by PID, and restartable on the same port for fault tests.
 * The machine's own instances (6379, 4222) are never touched.
 *
 * Where a binary is missing the tests that need it skip with a one-line install hint,
 * unless WSHUB_TEST_REQUIRE_SERVICES=1, where they fail instead.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { accessSync, constants, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { randomBytes } from 'node:crypto'

export type ServiceName = 'redis' | 'nats'

const binaries: Record<ServiceName, { env: string; name: string }> = {
  redis: { env: 'WSHUB_TEST_REDIS_SERVER', name: 'redis-server' },
  nats: { env: 'WSHUB_TEST_NATS_SERVER', name: 'nats-server' },
}

const installHint = 'apt-get install -y redis-server nats-server'

/** The path of a service's binary, or null when it is not installed. */
export function findBinary(service: ServiceName): string | null {
  const { env, name } = binaries[service]
  return findExecutable(name, env)
}

/** The path of an executable named `name` (or the one `envVar` names), on PATH or in the sbin folders; null when there is none. */
export function findExecutable(name: string, envVar: string): string | null {
  const candidates = process.env[envVar] ? [process.env[envVar]!] : [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin'].map((dir) => join(dir, name))
  for (const path of candidates) {
    try {
      accessSync(path, constants.X_OK)
      return path
    } catch {}
  }
  return null
}

/**
 * The `skip` option for a suite that needs a service: false when it can run, else the
 * reason. Throws when WSHUB_TEST_REQUIRE_SERVICES=1 and the binary is missing.
 */
export function skipUnless(...services: ServiceName[]): string | false {
  const missing = services.filter((s) => findBinary(s) === null).map((s) => binaries[s].name)
  if (missing.length === 0) return false
  const reason = `${missing.join(' and ')} not installed: ${installHint}`
  if (process.env.WSHUB_TEST_REQUIRE_SERVICES === '1') throw new Error(`WSHUB_TEST_REQUIRE_SERVICES=1 but ${reason}`)
  return reason
}

/** A free loopback port (the kernel's pick, released before use). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port
      server.close(() => resolve(port))
    })
  })
}

/** A unique key/subject prefix for one test, so tests sharing a server never collide. */
export function testPrefix(): string {
  return `t${randomBytes(5).toString('hex')}`
}

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

export class Service {
  readonly url: string
  private child: ChildProcess | null = null
  private output = ''

  constructor(
    readonly name: ServiceName,
    readonly port: number,
    private readonly args: string[],
    private readonly dataDir: string,
  ) {
    this.url = name === 'redis' ? `redis://127.0.0.1:${port}` : `nats://127.0.0.1:${port}`
  }

  get pid(): number | null {
    return this.child?.pid ?? null
  }

  /** Starts (or restarts) the server on its port; resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.child !== null) return
    const binary = findBinary(this.name)
    if (binary === null) throw new Error(`${binaries[this.name].name} not installed: ${installHint}`)
    const child = spawn(binary, this.args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    running.add(child)
    this.output = ''
    child.stdout!.on('data', (c: Buffer) => (this.output += c.toString()))
    child.stderr!.on('data', (c: Buffer) => (this.output += c.toString()))
    child.once('exit', () => {
      running.delete(child)
      if (this.child === child) this.child = null
    })
    await this.waitListening(10_000)
  }

  /** Stops the server by its PID (SIGTERM, or SIGKILL with `kill`) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child
    if (child === null) return
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
    child.kill(signal)
    await exited
  }

  /** Deletes what a stopped server stored (NATS's JetStream data), so it comes back empty. */
  wipe(): void {
    if (this.child !== null) throw new Error(`stop ${this.name} before wiping its data`)
    rmSync(this.dataDir, { recursive: true, force: true })
    mkdirSync(this.dataDir, { recursive: true })
  }

  /** Freezes the server (SIGSTOP): its connections stay open but nothing answers. */
  pause(): void {
    this.child?.kill('SIGSTOP')
  }

  /** Lets a paused server go on (SIGCONT). */
  resume(): void {
    this.child?.kill('SIGCONT')
  }

  /** Stops the server for good and removes its data directory. */
  async close(): Promise<void> {
    this.resume()
    await this.stop('SIGKILL')
    rmSync(this.dataDir, { recursive: true, force: true })
  }

  private async waitListening(timeoutMs: number): Promise<void> {
    const until = Date.now() + timeoutMs
    while (Date.now() < until) {
      if (this.child === null) throw new Error(`${this.name} exited at start: ${this.output}`)
      if (await canConnect(this.port)) {
        // NATS accepts TCP a moment before JetStream is ready; its log says when.
        if (this.name !== 'nats' || this.output.includes('Server is ready')) return
      }
      await new Promise((r) => setTimeout(r, 25))
    }
    throw new Error(`${this.name} did not listen on ${this.port} within ${timeoutMs} ms: ${this.output}`)
  }
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

/** Starts `redis-server --port <free> --save '' --appendonly no`: it comes back empty after a restart. */
export async function startRedis(): Promise<Service> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'wshub-redis-'))
  const service = new Service('redis', port, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], dir)
  await service.start()
  return service
}

/** Starts `nats-server -js -p <free> -sd <tmpdir>`: JetStream state survives a restart. */
export async function startNats(): Promise<Service> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'wshub-nats-'))
  const service = new Service('nats', port, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir], dir)
  await service.start()
  return service
}
