/**
 * The record of a run: a JSON file under bench/results/ with everything measured, and a
 * markdown block per scenario in bench/README.md, each carrying its own machine,
 * versions, commit and command, so a run of one scenario replaces only that block.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, release, totalmem } from 'node:os'
import { resolve } from 'node:path'
import { createRequire } from 'node:module'
import { findBinary } from '../../test/support/services.js'
import { hardFileLimit, repoRoot } from './proc.js'
import type { ScenarioResult } from './scenario.js'
import type { ScaleRun } from '../scenarios/scale.js'

export interface Machine {
  cpu: string
  cores: number
  memoryGiB: number
  kernel: string
  openFileLimit: number
  loadAverageAtStart: number[]
  node: string
  versions: Record<string, string | null>
  commit: string
}

function packageVersion(name: string): string | null {
  try {
    const require = createRequire(resolve(repoRoot, 'package.json'))
    return (require(`${name}/package.json`) as { version: string }).version
  } catch {
    return null
  }
}

function gitCommit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: repoRoot }).toString().trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib', 'middleware'], { cwd: repoRoot }).toString().trim() !== ''
    return dirty ? `${sha}+uncommitted lib changes` : sha
  } catch {
    return 'unknown'
  }
}

export function describeMachine(): Machine {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    kernel: release(),
    openFileLimit: hardFileLimit(),
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
    node: process.version,
    versions: {
      wshub: packageVersion('wshub') ?? (JSON.parse(readFileSync(resolve(repoRoot, 'package.json'), 'utf8')) as { version: string }).version,
      ws: packageVersion('ws'),
      'socket.io': packageVersion('socket.io'),
      'socket.io-client': packageVersion('socket.io-client'),
      '@socket.io/redis-adapter': packageVersion('@socket.io/redis-adapter'),
      ioredis: packageVersion('ioredis'),
      'redis-server': brokerVersion('redis'),
      'nats-server': brokerVersion('nats'),
    },
    commit: gitCommit(),
  }
}

function fmt(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return '—'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

function ratio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '' : ` (${value.toFixed(2)}×)`
}

function header(machine: Machine, command: string, date: string): string {
  const v = machine.versions
  return [
    `Run ${date} on ${machine.cores} × ${machine.cpu}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, load average ${machine.loadAverageAtStart.join(' ')} at start;`,
    `Node ${machine.node}, ws ${v.ws}, socket.io ${v['socket.io']}, redis-adapter ${v['@socket.io/redis-adapter']}, ${v['redis-server'] ?? 'no redis-server'}, ${v['nats-server'] ?? 'no nats-server'}; wshub at ${machine.commit}.`,
    `Command: \`${command}\``,
  ].join('\n')
}

/** Markdown for one ratio scenario (A to D). */
export function scenarioMarkdown(s: ScenarioResult, machine: Machine, command: string, date: string): string {
  const lines = [`### ${s.id}. ${s.title}`, '', header(machine, command, date), '', paramsLine(s.params), '']
  lines.push(`| target | ${s.metrics.map((m) => m.label).join(' | ')} |`)
  lines.push(`| --- | ${s.metrics.map(() => '---:').join(' | ')} |`)
  for (const v of s.variants) {
    if (v.unavailable !== null) {
      lines.push(`| ${v.label} | not available in this build: ${v.unavailable.replace(/\|/g, '/').slice(0, 160)} |`)
      continue
    }
    if (v.runs.length === 0) {
      lines.push(`| ${v.label} | failed: ${(v.failures[0] ?? '').replace(/\|/g, '/').slice(0, 160)} |`)
      continue
    }
    const cells = s.metrics.map((m) => `${fmt(v.median[m.key], m.digits)}${v.id === s.baseline ? '' : ratio(v.ratio[m.key])}`)
    lines.push(`| ${v.label} (${v.runs.length} runs) | ${cells.join(' | ')} |`)
  }
  lines.push('', `Medians over the rounds; in brackets, the ratio to ${s.baseline === 'raw' ? 'raw' : s.variants.find((v) => v.id === s.baseline)?.label ?? s.baseline}.`, '')
  for (const g of s.goals) {
    const mark = g.met === null ? '—' : g.met ? 'met' : 'NOT met'
    lines.push(`- ${g.label}: ${g.actual === null ? 'not measured' : `${g.actual.toFixed(2)}×`} → **${mark}**`)
  }
  for (const note of s.notes) lines.push(`- ${note}`)
  return lines.join('\n')
}

function paramsLine(params: Record<string, unknown>): string {
  const shown = Object.entries(params).filter(([, v]) => v !== undefined && typeof v !== 'object')
  return `Parameters: ${shown.map(([k, v]) => `${k}=${String(v)}`).join(', ')}; targets ${(params.targets as string[] | undefined)?.join(', ') ?? ''}.`
}

const MiB = 2 ** 20
const GiB = 2 ** 30

/** Markdown for scenario E. */
export function scaleMarkdown(e: { params: Record<string, unknown>; runs: ScaleRun[] }, machine: Machine, command: string, date: string, title = 'E. Scale: idle connections up to the open-file limit, then one broadcast'): string {
  const lines = [`### ${title}`, '', header(machine, command, date), '', paramsLine(e.params), '']
  lines.push('| target | nodes | bus | conns per node | RSS per node MiB | RSS B/conn | heap B/conn | open s |')
  lines.push('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |')
  for (const r of e.runs) {
    if (r.error !== null && r.steps.length === 0) {
      lines.push(`| ${r.target} | ${r.nodes} | ${r.bus} | failed: ${r.error.replace(/\|/g, '/').slice(0, 160)} | | | | |`)
      continue
    }
    for (const s of r.steps) {
      lines.push(
        `| ${r.target} | ${r.nodes} | ${r.bus} | ${s.perNode.toLocaleString('en-US')}${s.failed ? ` (${s.failed} failed)` : ''} | ${s.rssBytes.map((b) => (b / MiB).toFixed(0)).join(' + ')} | ${fmt(s.rssPerConn, 0)} | ${fmt(s.heapPerConn, 0)} | ${s.openSeconds.toFixed(1)} |`,
      )
    }
  }
  lines.push('', '| target | nodes | bus | held / opened | event loop max during heartbeats ms | broadcast reached | last client after ms | marginal RSS B/conn (r²) | between steps | RSS linear | 100k per node, extrapolated |')
  lines.push('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |')
  for (const r of e.runs) {
    if (r.steps.length === 0) continue
    lines.push(
      `| ${r.target} | ${r.nodes} | ${r.bus} | ${r.held.toLocaleString('en-US')} / ${r.expected.toLocaleString('en-US')} | ${fmt(r.heartbeatLoopMaxMs, 1)} | ${r.broadcastReceived.toLocaleString('en-US')} | ${fmt(r.broadcastMs ?? Number.NaN, 0)} | ${fmt(r.fit.slope, 0)} (${fmt(r.fit.r2, 3)}) | ${r.marginalPerConn.map((m) => fmt(m, 0)).join(', ')} | ${r.linear ? 'yes' : 'no'} | ${fmt(r.rssAt100kBytes / GiB, 2)} GiB${r.error ? ` — ${r.error}` : ''} |`,
    )
  }
  return lines.join('\n')
}

const README = resolve(repoRoot, 'bench/README.md')

/** Replaces (or appends) the block of each scenario in bench/README.md. */
export function updateReadme(blocks: Record<string, string>): void {
  let text = existsSync(README) ? readFileSync(README, 'utf8') : '# wshub benchmarks\n'
  for (const id of Object.keys(blocks).sort()) {
    const start = `<!-- bench:${id}:start -->`
    const end = `<!-- bench:${id}:end -->`
    const block = `${start}\n${blocks[id]}\n${end}`
    const a = text.indexOf(start)
    const b = text.indexOf(end)
    if (a !== -1 && b > a) text = text.slice(0, a) + block + text.slice(b + end.length)
    else {
      // New blocks go before the end marker of the results section, in scenario order.
      const anchor = '<!-- bench:results:end -->'
      const at = text.indexOf(anchor)
      text = at === -1 ? `${text.trimEnd()}\n\n${block}\n` : `${text.slice(0, at)}${block}\n\n${text.slice(at)}`
    }
  }
  writeFileSync(README, text)
}

/** Writes bench/results/<date>.json and returns its path. */
export function writeResults(stamp: string, record: unknown): string {
  const dir = resolve(repoRoot, 'bench/results')
  mkdirSync(dir, { recursive: true })
  const file = resolve(dir, `${stamp}.json`)
  writeFileSync(file, `${JSON.stringify(record, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2)}\n`)
  return file
}

/** A broker's version line, or null where it is not installed. */
function brokerVersion(kind: 'redis' | 'nats'): string | null {
  const binary = findBinary(kind)
  if (binary === null) return null
  return execFileSync(binary, ['--version']).toString().trim().split('\n')[0]!
}
