/**
 * The cluster's figures as `GET /api/stats` and its stream `GET /api/stats/stream`
 * answer them: clients (this node's and the cluster's), rooms, and every live node with
 * its clients, uptime, bus status and frame counters. Each other node is as of its last
 * heartbeat (every `cluster.node_ttl_ms / 3`); this node's own figures are read now.
 */
import type { NodeRecord } from './cluster/state.js'

/** What the figures are read from (application.ts hands it the app). */
export interface StatsHost {
  readonly nodeId: string
  readonly clients: { count(): Promise<number> }
  readonly rooms: { list(): Promise<readonly unknown[]> }
  readonly state: { nodes(): Promise<NodeRecord[]> }
  /** This node's record, read now. */
  readonly link: { nodeRecord(): NodeRecord }
}

/** A node as the stats show it. */
export type NodeStats = NodeRecord & { uptime_s: number }

/** What `GET /api/stats` answers. */
export interface ClusterStats {
  node_id: string
  /** When the figures were read, ms since the epoch (this node's clock). */
  time: number
  clients: { local: number; cluster: number }
  rooms: number
  nodes: NodeStats[]
}

/**
 * Reads the figures from the cluster state.
 *
 * @example
 * ```ts
 * const { clients, nodes } = await clusterStats(app)
 * console.log(`${clients.cluster} clients on ${nodes.length} nodes`)
 * ```
 */
export async function clusterStats(app: StatsHost): Promise<ClusterStats> {
  const [cluster, rooms, beats] = await Promise.all([app.clients.count(), app.rooms.list(), app.state.nodes()])
  const self = app.link.nodeRecord()
  const time = self.seen_at
  const nodes = beats.map((node) => (node.node_id === app.nodeId ? self : node))
  return {
    node_id: app.nodeId,
    time,
    clients: { local: self.clients, cluster },
    rooms: rooms.length,
    nodes: nodes.map((node) => ({ ...node, uptime_s: Math.max(0, Math.floor((time - node.started_at) / 1000)) })),
  }
}
