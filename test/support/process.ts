/**
 * Runs `wshub` as a real child process (bin/wshub.js) and reads its JSON log lines, for
 * tests of start-up, signals and multi-node clusters.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, resolve } from 'node:path'

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..')
export const binPath = resolve(repoRoot, 'bin/wshub.js')

export interface NodeProcess {
  child: ChildProcess
  port: number
  lines: Array<Record<string, unknown>>
  stderr: string
  /** Resolves with the exit code. */
  exited: Promise<number | null>
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>
}

/** Spawns a node (the CLI, or another script) with env-var config; resolves once it logged `listening`. */
export async function spawnNode(env: Record<string, string>, args: string[] = [], script = binPath): Promise<NodeProcess> {
  const child = spawn(process.execPath, [script, ...args], {
    env: { ...process.env, WSHUB_HTTP_HOST: '127.0.0.1', WSHUB_HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: Array<Record<string, unknown>> = []
  const listeners: Array<() => void> = []
  let buffered = ''
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString()
    let nl
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      try {
        lines.push(JSON.parse(line))
      } catch {
        lines.push({ raw: line })
      }
      for (const l of listeners) l()
    }
  })
  const proc: NodeProcess = {
    child,
    port: 0,
    lines,
    stderr: '',
    exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))),
    waitForLog(match, timeoutMs = 5000) {
      const found = lines.find(match)
      if (found) return Promise.resolve(found)
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`log line not seen within ${timeoutMs} ms; stderr: ${proc.stderr}`)), timeoutMs)
        const check = () => {
          const hit = lines.find(match)
          if (hit) {
            clearTimeout(timer)
            resolve(hit)
          }
        }
        listeners.push(check)
        child.once('exit', () => {
          clearTimeout(timer)
          reject(new Error(`node exited before the log line; stderr: ${proc.stderr}`))
        })
      })
    },
  }
  child.stderr!.on('data', (c: Buffer) => (proc.stderr += c.toString()))
  // A bound for a node that never starts, not a figure: generous for a loaded machine.
  // A node that did not come up in time is killed: left running, it would keep the test process alive for good.
  const listening = await proc.waitForLog((l) => l.msg === 'listening', 30_000).catch(async (err) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await proc.exited
    }
    throw err
  })
  proc.port = listening.port as number
  return proc
}

/** A drain takes at most 10 + 3 + 1 s (lib/shutdown.ts) and leaving the cluster a bounded state call. */
export const STOP_WAIT_MS = 25_000

/** SIGTERM, and SIGKILL if it has not exited in time; resolves to whether it had to be killed. */
export async function stopNode(node: NodeProcess): Promise<boolean> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return false
  node.child.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const stuck = await Promise.race([node.exited.then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_WAIT_MS)))])
  clearTimeout(timer)
  if (stuck) {
    node.child.kill('SIGKILL')
    await node.exited
  }
  return stuck
}

/** Runs the CLI to its end (for start-up failures); resolves with the exit code and output. */
export function runCli(env: Record<string, string>, args: string[] = [], timeoutMs = 10000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], { env: { ...process.env, WSHUB_HTTP_HOST: '127.0.0.1', WSHUB_HTTP_PORT: '0', ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c) => (stdout += c))
    child.stderr.on('data', (c) => (stderr += c))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`cli did not exit within ${timeoutMs} ms; stdout: ${stdout}`))
    }, timeoutMs)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}
