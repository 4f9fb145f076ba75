/**
 * Where the time goes: reads V8 CPU profiles (`node --cpu-prof`, written by
 * `npm run bench -- --profile wshub`) and prints the functions with the most self time,
 * and the wshub functions with the most total time (self and callees).
 *
 *   node dist/bench/profile.js bench/profiles/<run>/A-wshub/*.cpuprofile
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
  children?: number[]
}

interface Profile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileRow {
  fn: string
  selfMs: number
  totalMs: number
  selfShare: number
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame
  const file = url.replace(/^file:\/\//, '').replace(/^.*\/(dist|node_modules)\//, '$1/')
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim()
}

/** Self and total time per function, over one or more profiles. */
export function summarize(files: string[]): { rows: ProfileRow[]; totalMs: number } {
  const self = new Map<string, number>()
  const total = new Map<string, number>()
  let all = 0
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile
    const byId = new Map(profile.nodes.map((n) => [n.id, n]))
    const parent = new Map<number, number>()
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
    const selfById = new Map<number, number>()
    profile.samples.forEach((id, i) => {
      const dt = (profile.timeDeltas[i + 1] ?? profile.timeDeltas[i] ?? 0) / 1000
      selfById.set(id, (selfById.get(id) ?? 0) + dt)
    })
    for (const [id, ms] of selfById) {
      const node = byId.get(id)!
      if (node.callFrame.functionName === '(idle)') continue
      all += ms
      self.set(label(node), (self.get(label(node)) ?? 0) + ms)
      // Total time: every distinct function on the stack gets the sample once.
      const onStack = new Set<string>()
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) onStack.add(label(byId.get(cur)!))
      for (const fn of onStack) total.set(fn, (total.get(fn) ?? 0) + ms)
    }
  }
  const rows = [...total.keys()].map((fn) => ({ fn, selfMs: self.get(fn) ?? 0, totalMs: total.get(fn)!, selfShare: (self.get(fn) ?? 0) / all }))
  return { rows, totalMs: all }
}

export function formatSummary(summary: { rows: ProfileRow[]; totalMs: number }, top = 25): string {
  const pct = (ms: number) => `${((ms / summary.totalMs) * 100).toFixed(1).padStart(5)}%`
  const out = [`busy time ${summary.totalMs.toFixed(0)} ms`, '', 'self time:']
  for (const r of [...summary.rows].sort((a, b) => b.selfMs - a.selfMs).slice(0, top)) out.push(`  ${pct(r.selfMs)}  ${r.fn}`)
  out.push('', 'total time of wshub functions (self + callees):')
  const ours = summary.rows.filter((r) => /dist\/(lib|middleware)\//.test(r.fn))
  for (const r of ours.sort((a, b) => b.totalMs - a.totalMs).slice(0, top)) out.push(`  ${pct(r.totalMs)}  ${r.fn}`)
  return out.join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const files = process.argv.slice(2)
  if (files.length === 0) {
    console.error('usage: node dist/bench/profile.js FILE.cpuprofile...')
    process.exit(2)
  }
  console.log(formatSummary(summarize(files)))
}
