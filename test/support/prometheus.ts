/**
 * A real Prometheus server for tests (Debian's `prometheus`): started on a free loopback
 * port with its own config and its own TSDB directory in a temp dir, stopped by PID. The
 * machine's own Prometheus (9090) is never touched.
 *
 * Where the binary is missing the tests that need it skip with an install hint, unless
 * WSHUB_TEST_REQUIRE_SERVICES=1, where they fail instead (as services.ts does).
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import yaml from 'js-yaml'
import { findExecutable, freePort } from './services.js'

const INSTALL_HINT = 'apt-get install -y prometheus'

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** The path of the prometheus binary, or null when it is not installed. */
export function findPrometheus(): string | null {
  return findExecutable('prometheus', 'WSHUB_TEST_PROMETHEUS')
}

/** The `skip` option for a suite that needs Prometheus; throws under WSHUB_TEST_REQUIRE_SERVICES=1 when it is missing. */
export function skipUnlessPrometheus(): string | false {
  if (findPrometheus() !== null) return false
  const reason = `prometheus not installed: ${INSTALL_HINT}`
  if (process.env.WSHUB_TEST_REQUIRE_SERVICES === '1') throw new Error(`WSHUB_TEST_REQUIRE_SERVICES=1 but ${reason}`)
  return reason
}

/** One instant-query answer: the series and their values. */
export type Sample = { metric: Record<string, string>; value: [number, string] }

export class Prometheus {
  private output = ''
  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
    readonly base: string,
  ) {
    child.stdout!.on('data', (c: Buffer) => (this.output += c.toString()))
    child.stderr!.on('data', (c: Buffer) => (this.output += c.toString()))
  }

  /** Starts Prometheus with `config` (an object, written as YAML); resolves once it is ready. */
  static async start(config: unknown): Promise<Prometheus> {
    const binary = findPrometheus()
    if (binary === null) throw new Error(`prometheus not installed: ${INSTALL_HINT}`)
    const dir = mkdtempSync(join(tmpdir(), 'wshub-prometheus-'))
    const configFile = join(dir, 'prometheus.yml')
    writeFileSync(configFile, yaml.dump(config))
    const port = await freePort()
    const child = spawn(binary, [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'pipe', 'pipe'] })
    running.add(child)
    child.once('exit', () => running.delete(child))
    const server = new Prometheus(child, dir, `http://127.0.0.1:${port}`)
    const until = Date.now() + 20_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited at start: ${server.output}`)
      const ready = await fetch(`${server.base}/-/ready`).then((r) => r.ok, () => false)
      if (ready) return server
      if (Date.now() > until) {
        await server.stop()
        throw new Error(`prometheus was not ready within 20 s: ${server.output}`)
      }
      await new Promise((r) => setTimeout(r, 100))
    }
  }

  /**
   * An instant query through the HTTP API, at `time` (seconds since the epoch) when given
   * so that two queries read the same moment; rejects when Prometheus refuses it (a bad expression).
   */
  async query(expr: string, time?: number): Promise<Sample[]> {
    const params = new URLSearchParams({ query: expr })
    if (time !== undefined) params.set('time', String(time))
    const res = await fetch(`${this.base}/api/v1/query?${params}`)
    const body = (await res.json()) as { status: string; error?: string; data?: { resultType: string; result: Sample[] } }
    if (body.status !== 'success') throw new Error(`prometheus refused ${expr}: ${body.error}`)
    if (body.data!.resultType !== 'vector') throw new Error(`${expr} answered a ${body.data!.resultType}, not a vector`)
    return body.data!.result
  }

  /** Stops it by its PID and removes its directory. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()))
      this.child.kill('SIGTERM')
      await exited
    }
    rmSync(this.dir, { recursive: true, force: true })
  }
}
