/**
 * Scenario F, fan-out that grows with the cluster: one room of `members` clients spread
 * evenly over 1, 2 and 4 wshub nodes on one broker, `publishers` of them sending `rate`
 * room messages a second each. Per node count: deliveries per server CPU-second (every
 * node together; the broker apart) and the p99 from publish to receipt, and their ratio
 * to one node: how each grows as nodes are added. On one machine the nodes share its
 * cores, so deliveries per second cannot grow with nodes here; deliveries per CPU-second
 * says what each node added costs.
 */
import { checkGoals, interleave, type ScenarioResult, type Variant } from '../support/scenario.js'
import type { BrokerKind } from '../support/brokers.js'
import { metricsOf, runOnce, type FanOutParams } from './fan-out.js'

export async function fanOutGrowing(p: FanOutParams & { nodeCounts: number[]; buses: BrokerKind[] }, log: (line: string) => void): Promise<ScenarioResult> {
  const started = Date.now()
  const variants: Array<Variant & { nodes: number }> = []
  for (const bus of p.buses) {
    for (const nodes of p.nodeCounts) variants.push({ id: `${bus}-${nodes}`, target: 'wshub', bus: nodes === 1 ? 'none' : bus, label: `wshub × ${nodes} (${nodes === 1 ? 'no bus' : bus})`, nodes })
  }
  // One node needs no broker: its run is the baseline of every bus.
  const unique = variants.filter((v, i) => v.nodes !== 1 || variants.findIndex((w) => w.nodes === 1) === i)
  const baseline = unique.find((v) => v.nodes === 1)?.id ?? unique[0]!.id
  const summaries = await interleave(unique, p.rounds, baseline, (v) => runOnce(v, (v as Variant & { nodes: number }).nodes, p), log)
  return {
    id: 'F',
    title: 'Room fan-out over 1, 2 and 4 nodes on one broker',
    params: { ...p, nodeArgs: undefined },
    baseline,
    metrics: metricsOf(true),
    variants: summaries,
    goals: checkGoals([], summaries),
    notes: [`Ratios are to one node (${baseline}); server CPU is every node together, the broker's own CPU its own column.`],
    seconds: (Date.now() - started) / 1000,
  }
}
