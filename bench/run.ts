/**
 * `npm run bench [-- --scenario A,B ...]`: the benchmark suite. Three targets do the same
 * work (raw ws, Socket.IO, wshub with its full default chain); the load runs in its own
 * processes; targets run interleaved, round after round; the report gives medians,
 * ratios to raw and the server's CPU seconds. See bench/README.md.
 */
import { parseArgs } from 'node:util'
import { mkdirSync, readdirSync, existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { hardFileLimit, killAll, repoRoot } from './support/proc.js'
import { TARGET_KINDS, type TargetKind } from './support/targets.js'
import { describeMachine, scaleMarkdown, scenarioMarkdown, updateReadme, writeResults } from './support/report.js'
import type { ScenarioResult } from './support/scenario.js'
import { requestResponse } from './scenarios/request-response.js'
import { fanOutOneNode, fanOutTwoNodes } from './scenarios/fan-out.js'
import { idleConnections } from './scenarios/idle.js'
import { scale } from './scenarios/scale.js'
import { fanOutGrowing } from './scenarios/fan-out-nodes.js'
import type { BrokerKind } from './support/brokers.js'
import { formatSummary, summarize } from './profile.js'

const FLAGS = {
  scenario: { type: 'string', default: 'A,B,C,D,E', help: 'scenarios to run, comma-separated (F: fan-out over 1, 2, 4 nodes)' },
  rounds: { type: 'string', default: '3', help: 'interleaved rounds of A to D' },
  targets: { type: 'string', default: 'raw,socketio,wshub', help: 'targets of A to D' },
  'load-procs': { type: 'string', default: '1', help: 'load-generator processes for A to D' },
  profile: { type: 'string', default: '', help: 'targets to run under --cpu-prof (e.g. wshub); profiles go to bench/profiles/' },
  'no-write': { type: 'boolean', default: false, help: 'print only: no results file, no README update' },
  'a-connections': { type: 'string', default: '100', help: 'A: connections' },
  'a-in-flight': { type: 'string', default: '10', help: 'A: requests in flight per connection' },
  'a-warmup-ms': { type: 'string', default: '1000', help: 'A: warm-up before measuring' },
  'a-duration-ms': { type: 'string', default: '3000', help: 'A: measured window' },
  'a-schemas': { type: 'string', default: 'zod,json', help: 'A: wshub variants with a schema on the ping route (zod, json; empty for none)' },
  'b-members': { type: 'string', default: '1000', help: 'B: room members' },
  'b-publishers': { type: 'string', default: '5', help: 'B: publishers (members too)' },
  'b-rate': { type: 'string', default: '4', help: 'B: messages per second per publisher' },
  'b-payload': { type: 'string', default: '64', help: 'B: padding bytes per message' },
  'b-warmup-ms': { type: 'string', default: '1000', help: 'B: warm-up before measuring' },
  'b-duration-ms': { type: 'string', default: '3000', help: 'B: measured window' },
  'c-members': { type: 'string', default: '1000', help: 'C: room members, half per node' },
  'c-publishers': { type: 'string', default: '5', help: 'C: publishers, spread over both nodes' },
  'c-rate': { type: 'string', default: '4', help: 'C: messages per second per publisher' },
  'c-payload': { type: 'string', default: '64', help: 'C: padding bytes per message' },
  'c-buses': { type: 'string', default: 'redis,nats', help: 'C: buses (nats runs wshub only)' },
  'c-warmup-ms': { type: 'string', default: '1000', help: 'C: warm-up before measuring' },
  'c-duration-ms': { type: 'string', default: '2500', help: 'C: measured window' },
  'd-connections': { type: 'string', default: '10000', help: 'D: idle connections' },
  'd-concurrency': { type: 'string', default: '200', help: 'D: handshakes in flight' },
  'e-targets': { type: 'string', default: 'wshub,raw', help: 'E: targets' },
  'e-nodes': { type: 'string', default: '1,2', help: 'E: node counts to run' },
  'e-max': { type: 'string', default: '', help: 'E: connections per node at the last step (default: hard open-file limit − 100)' },
  'e-steps': { type: 'string', default: '5000,10000', help: 'E: steps below the maximum where RSS is read' },
  'e-load-procs': { type: 'string', default: '4', help: 'E: load-generator processes' },
  'e-concurrency': { type: 'string', default: '200', help: 'E: handshakes in flight' },
  'e-source-addresses': { type: 'string', default: '8', help: 'E: 127.0.0.x source addresses per load process' },
  'e-heartbeat-ms': { type: 'string', default: '5000', help: 'E: server heartbeat interval' },
  'e-hold-ms': { type: 'string', default: '11000', help: 'E: hold with heartbeats running before the broadcast' },
  'e-buses': { type: 'string', default: 'redis', help: 'E: brokers of the multi-node runs (redis, nats, redis-cluster), one run each' },
  'e-block': { type: 'string', default: 'E', help: 'E: the bench/README.md block the table goes to (E100k for the 100,000 run)' },
  'f-members': { type: 'string', default: '4000', help: 'F: room members, spread over the nodes' },
  'f-nodes': { type: 'string', default: '1,2,4', help: 'F: node counts' },
  'f-buses': { type: 'string', default: 'redis,nats', help: 'F: brokers (one server each), one series per broker' },
  'f-publishers': { type: 'string', default: '4', help: 'F: publishers' },
  'f-rate': { type: 'string', default: '2', help: 'F: messages per second per publisher' },
  'f-payload': { type: 'string', default: '64', help: 'F: padding bytes per message' },
  'f-warmup-ms': { type: 'string', default: '1000', help: 'F: warm-up before measuring' },
  'f-duration-ms': { type: 'string', default: '3000', help: 'F: measured window' },
  help: { type: 'boolean', default: false, help: 'this text' },
} as const

function usage(): string {
  const rows = Object.entries(FLAGS).map(([name, f]) => `  --${name.padEnd(16)} ${f.help}${f.type === 'string' && f.default ? ` (default ${f.default})` : ''}`)
  return ['usage: npm run bench -- [flags]', '', ...rows].join('\n')
}

const options = Object.fromEntries(Object.entries(FLAGS).map(([k, f]) => [k, { type: f.type, default: f.default }]))
const { values } = parseArgs({ options: options as never, strict: true }) as { values: Record<string, string | boolean> }
const str = (name: keyof typeof FLAGS) => String(values[name])
const int = (name: keyof typeof FLAGS) => {
  const n = Number(values[name])
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a number, got ${values[name]}`)
  return n
}
const list = (name: keyof typeof FLAGS) => str(name).split(',').map((s) => s.trim()).filter(Boolean)
function targetList(name: keyof typeof FLAGS): TargetKind[] {
  const out = list(name)
  for (const t of out) if (!TARGET_KINDS.includes(t as TargetKind)) throw new Error(`--${name}: unknown target ${t} (raw, socketio, wshub)`)
  return out as TargetKind[]
}

function schemaList(): Array<'zod' | 'json'> {
  const out = list('a-schemas')
  for (const s of out) if (s !== 'zod' && s !== 'json') throw new Error(`--a-schemas: unknown schema ${s} (zod, json)`)
  return out as Array<'zod' | 'json'>
}

async function main(): Promise<void> {
  if (values.help) {
    console.log(usage())
    return
  }
  const scenarios = list('scenario').map((s) => s.toUpperCase())
  const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ')
  const machine = describeMachine()
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z')
  const stamp = date.replace(/:/g, '-')
  const log = (line: string) => console.log(line)
  log(`wshub bench ${date}: ${machine.cores} × ${machine.cpu}, load ${machine.loadAverageAtStart.join(' ')}, open-file limit ${machine.openFileLimit}, wshub ${machine.commit}`)

  const profiled = list('profile') as TargetKind[]
  const profileRoot = resolve(repoRoot, 'bench/profiles', stamp)
  const nodeArgsFor = (scenario: string) => {
    const args: Partial<Record<TargetKind, string[]>> = {}
    for (const t of profiled) {
      const dir = resolve(profileRoot, `${scenario}-${t}`)
      mkdirSync(dir, { recursive: true })
      args[t] = ['--cpu-prof', `--cpu-prof-dir=${dir}`]
    }
    return args
  }

  const rounds = int('rounds')
  const targets = targetList('targets')
  const loadProcs = Math.max(1, int('load-procs'))
  const results: ScenarioResult[] = []
  const blocks: Record<string, string> = {}
  let scaleResult: Awaited<ReturnType<typeof scale>> | null = null

  for (const id of scenarios) {
    const t0 = Date.now()
    if (id === 'A') {
      log(`\nA. request/response: ${int('a-connections')} connections × ${int('a-in-flight')} in flight, ${rounds} rounds`)
      const r = await requestResponse(
        { targets, rounds, connections: int('a-connections'), inFlight: int('a-in-flight'), warmupMs: int('a-warmup-ms'), durationMs: int('a-duration-ms'), loadProcs, nodeArgs: nodeArgsFor('A'), schemas: schemaList() },
        log,
      )
      results.push(r)
    } else if (id === 'B' || id === 'C') {
      const k = id.toLowerCase() as 'b' | 'c'
      const p = {
        targets,
        rounds,
        members: int(`${k}-members`),
        publishers: int(`${k}-publishers`),
        rate: int(`${k}-rate`),
        payloadBytes: int(`${k}-payload`),
        warmupMs: int(`${k}-warmup-ms`),
        durationMs: int(`${k}-duration-ms`),
        loadProcs,
        nodeArgs: nodeArgsFor(id),
      }
      if (id === 'B') {
        log(`\nB. room fan-out, one node: ${p.members} members, ${p.publishers} publishers × ${p.rate}/s, ${rounds} rounds`)
        results.push(await fanOutOneNode(p, log))
      } else {
        const buses = list('c-buses') as Array<'redis' | 'nats'>
        log(`\nC. room fan-out, two nodes over ${buses.join(' and ')}: ${p.members} members, ${p.publishers} publishers × ${p.rate}/s, ${rounds} rounds`)
        results.push(await fanOutTwoNodes({ ...p, buses }, log))
      }
    } else if (id === 'D') {
      log(`\nD. idle connections: ${int('d-connections')}, ${rounds} rounds`)
      results.push(await idleConnections({ targets, rounds, connections: int('d-connections'), concurrency: int('d-concurrency'), loadProcs, nodeArgs: nodeArgsFor('D') }, log))
    } else if (id === 'E') {
      const hard = hardFileLimit()
      const max = str('e-max') === '' ? hard - 100 : int('e-max')
      log(`\nE. scale: up to ${max} connections per node (hard open-file limit ${hard}), nodes ${str('e-nodes')}`)
      scaleResult = await scale(
        {
          targets: targetList('e-targets'),
          nodes: list('e-nodes').map(Number),
          buses: list('e-buses') as BrokerKind[],
          max,
          steps: list('e-steps').map(Number),
          loadProcs: Math.max(1, int('e-load-procs')),
          perProcMax: hard - 200,
          sourceAddresses: Math.max(1, int('e-source-addresses')),
          concurrency: int('e-concurrency'),
          heartbeatMs: int('e-heartbeat-ms'),
          holdMs: int('e-hold-ms'),
          broadcastTimeoutMs: 30_000,
        },
        log,
      )
      const total = Math.max(...scaleResult.params.nodes) * max
      const title = str('e-block') === 'E' ? undefined : `E at ${total.toLocaleString('en-US')}: idle connections over ${Math.max(...scaleResult.params.nodes)} nodes, then one POST /api/broadcast`
      blocks[str('e-block')] = scaleMarkdown({ params: { ...scaleResult.params } as Record<string, unknown>, runs: scaleResult.runs }, machine, command, date, title)
    } else if (id === 'F') {
      const p = {
        targets: ['wshub' as TargetKind],
        rounds,
        members: int('f-members'),
        publishers: int('f-publishers'),
        rate: int('f-rate'),
        payloadBytes: int('f-payload'),
        warmupMs: int('f-warmup-ms'),
        durationMs: int('f-duration-ms'),
        loadProcs,
        nodeArgs: nodeArgsFor('F'),
        nodeCounts: list('f-nodes').map(Number),
        buses: list('f-buses') as BrokerKind[],
      }
      log(`\nF. room fan-out over ${p.nodeCounts.join(', ')} nodes on ${p.buses.join(' and ')}: ${p.members} members, ${p.publishers} publishers × ${p.rate}/s, ${rounds} rounds`)
      results.push(await fanOutGrowing(p, log))
    } else throw new Error(`unknown scenario ${id} (A, B, C, D, E, F)`)
    log(`  (${id}: ${((Date.now() - t0) / 1000).toFixed(0)} s)`)
  }

  for (const r of results) blocks[r.id] = scenarioMarkdown(r, machine, command, date)
  log('')
  for (const id of Object.keys(blocks).sort()) log(`${blocks[id]}\n`)

  if (profiled.length > 0 && existsSync(profileRoot)) {
    for (const dir of readdirSync(profileRoot)) {
      const files = readdirSync(resolve(profileRoot, dir)).filter((f) => f.endsWith('.cpuprofile')).map((f) => resolve(profileRoot, dir, f))
      if (files.length === 0) continue
      log(`profile ${dir} (${files.length} files in bench/profiles/${stamp}/${dir}):\n${formatSummary(summarize(files))}\n`)
    }
  }

  if (!values['no-write']) {
    const file = writeResults(stamp, { date, command, machine, scenarios: results, scale: scaleResult })
    updateReadme(blocks)
    log(`results: ${file}; bench/README.md updated`)
  }
}

main()
  .catch((err) => {
    console.error(err instanceof Error ? err.message : err)
    process.exitCode = 1
  })
  .finally(() => killAll())
