/**
 * The processes the bench starts: targets and load generators (Redis and NATS come from
 * test/support/services.ts, as in the tests). Each is spawned through `sh` so that its
 * soft open-file limit is raised to the hard one first, talks to the orchestrator over
 * Node's IPC channel, and is stopped by its PID. CPU time and RSS are read from /proc, as
 * the kernel counts them.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { dirname, resolve } from 'node:path'

/** dist/bench, where the compiled scripts live. */
export const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), '..')
/** The repository root (dist/bench/support → ../../..). */
export const repoRoot = resolve(benchDir, '../..')

let clockTicks = 0
const live = new Set<ChildProcess>()
let guarded = false

/** Kills every process the bench started that is still running (on exit or interrupt). */
export function killAll(): void {
  for (const child of live) if (child.exitCode === null && child.pid !== undefined) child.kill('SIGKILL')
  live.clear()
}

// Installed with the first child, so that importing this module has no side effects.
function guardExit(): void {
  if (guarded) return
  guarded = true
  process.once('exit', killAll)
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll()
      process.exit(130)
    })
  }
}

/** The hard open-file limit of this shell's processes. */
export function hardFileLimit(): number {
  return Number(execFileSync('sh', ['-c', 'ulimit -Hn']).toString().trim())
}

/**
 * Spawns a command with its soft open-file limit raised to the hard limit. `sh` execs
 * the command, so the child's PID is the command's own.
 */
export function spawnRaised(command: string, args: string[], options: { ipc?: boolean; env?: NodeJS.ProcessEnv; stdout?: 'ignore' | 'pipe' } = {}): ChildProcess {
  guardExit()
  const child = spawn('/bin/sh', ['-c', 'ulimit -S -n "$(ulimit -H -n)" && exec "$0" "$@"', command, ...args], {
    stdio: ['ignore', options.stdout ?? 'ignore', 'pipe', ...(options.ipc ? (['ipc'] as const) : [])],
    env: { ...process.env, ...options.env },
  })
  live.add(child)
  child.once('exit', () => live.delete(child))
  return child
}

/** A bench process (target or load generator) that answers commands over IPC. */
export class Peer {
  private seq = 0
  private readonly pending = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>()
  private stderrTail = ''
  readonly exited: Promise<number | null>
  readonly ready: Promise<any>

  constructor(readonly name: string, readonly child: ChildProcess) {
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-4000)
    })
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)))
    this.ready = new Promise((resolve, reject) => {
      child.on('message', (msg: any) => {
        if (msg?.type === 'ready') resolve(msg)
        else if (msg?.type === 'error') reject(new Error(msg.message))
        else if (msg?.type === 'reply') {
          const waiter = this.pending.get(msg.id)
          this.pending.delete(msg.id)
          if (msg.error) waiter?.reject(new Error(`${this.name}: ${msg.error}`))
          else waiter?.resolve(msg.result)
        }
      })
      void this.exited.then((code) => {
        const err = new Error(`${this.name} exited (${code}) ${this.stderrTail.trim()}`)
        reject(err)
        for (const w of this.pending.values()) w.reject(err)
        this.pending.clear()
      })
    })
    this.ready.catch(() => {})
  }

  get pid(): number {
    return this.child.pid!
  }

  get stderr(): string {
    return this.stderrTail
  }

  /** Sends a command and resolves with its result. */
  call<T = any>(cmd: string, args: Record<string, unknown> = {}): Promise<T> {
    const id = ++this.seq
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.child.send({ id, cmd, ...args }, (err) => {
        if (err) {
          this.pending.delete(id)
          reject(err)
        }
      })
    })
  }

  /** Stops the process by its PID and waits for it to go. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    this.child.kill('SIGTERM')
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000)
    await this.exited
    clearTimeout(timer)
  }
}

/** Starts a compiled bench script (relative to dist/bench) as a Peer. */
export function startScript(name: string, script: string, env: Record<string, string> = {}, nodeArgs: string[] = []): Peer {
  const child = spawnRaised(process.execPath, ['--expose-gc', ...nodeArgs, resolve(benchDir, script)], { ipc: true, env })
  return new Peer(name, child)
}

/** Whether the kernel keeps each thread's time on a CPU in ns (`/proc/<pid>/task/<tid>/schedstat`). */
const HAS_SCHEDSTAT = existsSync('/proc/self/schedstat')

/**
 * CPU seconds (user + system, every thread) the process has used so far, to the
 * nanosecond: the sum of its threads' time on a CPU (`/proc/<pid>/task/<tid>/schedstat`).
 * proc(5)'s utime and stime count whole clock ticks (10 ms), too coarse for a window in
 * which a node uses 0.4 s (B and C): two readings of two nodes moved a ratio by up to 5%.
 * A thread that ended within the window takes its time with it, which no target's does
 * while it is measured; without schedstat (a kernel built without it) the ticks are read.
 */
export function cpuSeconds(pid: number): number {
  if (!HAS_SCHEDSTAT) return tickSeconds(pid)
  let ns = 0
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ', 1)[0])
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err // ENOENT: the thread ended since the listing
    }
  }
  return ns / 1e9
}

function tickSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  clockTicks ||= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100
  // Fields 14 and 15 of proc(5) (utime, stime) are at 11 and 12 once pid and comm are cut.
  return (Number(fields[11]) + Number(fields[12])) / clockTicks
}

/** Resident set size of a process, in bytes. */
export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const m = /VmRSS:\s+(\d+) kB/.exec(status)
  return m ? Number(m[1]) * 1024 : Number.NaN
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
