// `npm audit --omit=dev` for CI: fails on any high or critical finding in the runtime
// dependencies. Where the registry answers no advisories at all (a mirror without the
// audit endpoint answers 405), it says so loudly and, unless WSHUB_AUDIT_REQUIRED=1,
// does not fail the build for it: an audit that could not run is not a finding.
import { spawnSync } from 'node:child_process'

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8' })
let report
try {
  report = JSON.parse(run.stdout)
} catch {
  report = null
}
const counts = report?.metadata?.vulnerabilities
if (counts === undefined) {
  const why = report?.message ?? run.stderr.trim().split('\n').pop() ?? 'no answer'
  console.log(`npm audit: NOT CHECKED, the registry gave no advisories (${why})`)
  process.exit(process.env.WSHUB_AUDIT_REQUIRED === '1' ? 1 : 0)
}
const serious = (counts.high ?? 0) + (counts.critical ?? 0)
console.log(`npm audit --omit=dev: ${JSON.stringify(counts)}`)
if (serious > 0) {
  for (const [name, v] of Object.entries(report.vulnerabilities ?? {})) if (v.severity === 'high' || v.severity === 'critical') console.log(`  ${v.severity}: ${name} ${v.range ?? ''}`)
  process.exit(1)
}
