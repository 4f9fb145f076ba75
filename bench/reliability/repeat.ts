/**
 * `npm run faults:repeat -- --times 20 [--only <parts of file names, comma-separated>]`: runs every fault
 * test file (FAULT_TESTS) N times in a row, one `node --test` process per file and run,
 * and counts the runs that failed. A failed run's output is kept in
 * bench/results/faults-repeat/<file>-<run>.log; the counts, with the machine's load
 * average at each run, go to bench/results/faults-repeat.json. Exits 1 if any run failed.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg, cpus } from 'node:os'
import { basename, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { numberFlag } from './args.js'

/** The tests that inject faults: servers stopped, frozen or restarted, nodes killed or frozen, links cut, slowed or stalled. */
export const FAULT_TESTS = [
  'integration/cluster-fault-recovery.test.js',
  'integration/cluster-faults.test.js',
  'integration/network-faults.test.js',
  'integration/nats-state-freeze.test.js',
  'integration/nats-nodes.test.js',
  'integration/identity-writeback.test.js',
  'integration/identity-change.test.js',
  'integration/history-outage.test.js',
  'integration/history-state-lost.test.js',
  'integration/state-unreachable.test.js',
]

const times = numberFlag('times', 20)
const onlyAt = process.argv.indexOf('--only')
// Comma-separated parts of file names.
const only = onlyAt === -1 ? null : process.argv[onlyAt + 1]!
const testRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../test')
const files = FAULT_TESTS.filter((f) => only === null || only.split(',').some((part) => f.includes(part)))
if (files.length === 0) {
  console.error(`--only ${only} matches none of: ${FAULT_TESTS.join(', ')}`)
  process.exit(2)
}

function runOnce(file: string): Promise<{ ok: boolean; output: string; ms: number }> {
  const started = performance.now()
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--test', resolve(testRoot, file)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, WSHUB_TEST_REQUIRE_SERVICES: '1' } })
    let output = ''
    child.stdout.on('data', (c: Buffer) => (output += c.toString()))
    child.stderr.on('data', (c: Buffer) => (output += c.toString()))
    child.on('exit', (code) => done({ ok: code === 0 && /^# fail 0$/m.test(output) && /^# skipped 0$/m.test(output), output, ms: Math.round(performance.now() - started) }))
  })
}

/** The counts so far, written after every run: a series stopped early keeps what it did. */
function summarize(done: number) {
  const sortedLoads = loads.slice().sort((a, b) => a - b)
  const summary = {
    times,
    iterations_done: done,
    cores: cpus().length,
    load_average_1m: { min: sortedLoads[0], median: sortedLoads[Math.floor(sortedLoads.length / 2)], max: sortedLoads[sortedLoads.length - 1] },
    files: results.map(({ file, runs, failed, failedRuns, tests, ms }) => ({ file, tests, runs, failed, failed_runs: failedRuns, median_s: Math.round(ms.slice().sort((a, b) => a - b)[Math.floor(ms.length / 2)]! / 100) / 10 })),
    runs: results.reduce((n, r) => n + r.runs, 0),
    failed: results.reduce((n, r) => n + r.failed, 0),
  }
  mkdirSync('bench/results', { recursive: true })
  writeFileSync(`bench/results/faults-repeat${only === null ? '' : `-${only.replace(/[^A-Za-z0-9_-]/g, '_')}`}.json`, `${JSON.stringify(summary, null, 2)}\n`)
  return summary
}

const failuresDir = 'bench/results/faults-repeat'
const results = files.map((file) => ({ file, runs: 0, failed: 0, failedRuns: [] as number[], tests: 0, ms: [] as number[] }))
const loads: number[] = []
for (let run = 1; run <= times; run++) {
  for (const result of results) {
    loads.push(loadavg()[0]!)
    const { ok, output, ms } = await runOnce(result.file)
    result.runs++
    result.ms.push(ms)
    result.tests = Number(/^# tests (\d+)$/m.exec(output)?.[1] ?? 0)
    if (!ok) {
      result.failed++
      result.failedRuns.push(run)
      mkdirSync(failuresDir, { recursive: true })
      writeFileSync(`${failuresDir}/${basename(result.file, '.test.js')}-${run}.log`, output)
    }
    console.log(`run ${run}/${times} ${result.file}: ${ok ? 'ok' : 'FAILED'} in ${(ms / 1000).toFixed(1)} s (load ${loadavg()[0]!.toFixed(1)})`)
  }
  summarize(run)
}
const summary = summarize(times)

console.log(JSON.stringify(summary, null, 2))
process.exit(summary.failed === 0 ? 0 : 1)
