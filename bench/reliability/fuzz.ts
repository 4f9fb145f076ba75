/**
 * `npm run fuzz -- --frames N [--seed S] [--sessions K]`: the mutation fuzzer of
 * test/integration/frame-fuzz.test.ts, for longer runs, against a node in this process
 * (rate limit raised), with a bystander talking through a room and the heap measured
 * after GC before and after. Prints one JSON report; exits 1 on any wrong answer.
 */
import { startNode } from '../../test/support/node.js'
import { runMutationFuzz } from '../../test/support/fuzz-run.js'
import { Bystander, exposeGc, settledHeap } from '../../test/support/fuzz-driver.js'
import { numberFlag } from './args.js'

const frames = numberFlag('frames', 200_000)
const seed = numberFlag('seed', Date.now() % 1_000_000)
const sessions = numberFlag('sessions', 4)
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10

const gc = await exposeGc()
const node = await startNode({ rate_limit: { per_connection: { rate: 1_000_000, burst: 1_000_000 } }, dedup: { window_ms: 1000 } })
const bystander = await Bystander.start(node.url)
const heapBefore = await settledHeap(gc)
const rssBefore = process.memoryUsage().rss
const report = await runMutationFuzz({ url: node.url, frames, seed, sessions, maxProbes: Math.max(200, Math.floor(frames / 250)) })
await new Promise((r) => setTimeout(r, 2500))
const talk = await bystander.stop()
const heapAfter = await settledHeap(gc)
await node.close()
const result = {
  seed,
  frames: report.frames,
  seconds: Math.round(report.ms / 100) / 10,
  frames_per_second: Math.round(report.frames / (report.ms / 1000)),
  close_probes: report.probes,
  wrong_answers: report.failures.length,
  first_failures: report.failures.slice(0, 5),
  bystander: talk,
  heap_mb: { before: mb(heapBefore), after: mb(heapAfter), growth: mb(heapAfter - heapBefore) },
  rss_mb: { before: mb(rssBefore), after: mb(process.memoryUsage().rss) },
}
console.log(JSON.stringify(result, null, 2))
process.exit(report.failures.length === 0 && talk.delivered === talk.sent ? 0 : 1)
