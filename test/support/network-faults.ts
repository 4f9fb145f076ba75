/**
 * Faults of the network between one node and its broker while the processes stay up,
 * on three node processes that each reach Redis or NATS through a TCP proxy of their own
 * (test/support/tcp-proxy.ts); node 3's link is the faulty one. Traffic flows both ways
 * across it: a sender on node 1 (room `net-a`) and one on node 3 (room `net-b`), each
 * sending 50 room messages/s as requests, and on every node a witness in both rooms.
 * Shared by test/integration/network-faults.test.ts (behaviour) and `npm run faults --
 * --network` (figures).
 */
import type { Backend } from './backends.js'
import { clusterEnv } from './cluster.js'
import { Receiver, Sender, resumedAfter } from './fault-traffic.js'
import { spawnNode, stopNode, STOP_WAIT_MS, type NodeProcess } from './process.js'
import { testPrefix } from './services.js'
import { TcpProxy } from './tcp-proxy.js'
import { TestClient } from './ws-client.js'

export type NetworkFault = 'partition-short' | 'partition-long' | 'latency' | 'stall'

export const NET_TTL_MS = 1500

/** What each fault does to node 3's link, and for how long. */
export const networkFaults: Record<NetworkFault, string> = {
  'partition-short': 'node 3 partitioned from the broker for 2 s (bytes and new connections held, no RST)',
  'partition-long': `node 3 partitioned from the broker for ${(2 * NET_TTL_MS) / 1000} s (2 × cluster.node_ttl_ms: the others sweep it)`,
  latency: '200 ms added to every round trip of node 3 with the broker (100 ms each way) for 4 s',
  stall: 'node 3\'s open broker connections stalled for good (no byte, no RST, no FIN); new connections work',
}

export interface NetworkReport {
  fault: NetworkFault
  backend: string
  /** Room messages sent by both senders, acked, answered with an error, and not answered at all. */
  sent: number
  acked: number
  refused: number
  /** The codes of those errors: code → count. */
  refusedCodes: Record<string, number>
  unanswered: number
  /** Acked messages that went out without offset (their node could not reach the state): no `since` can bring them back. */
  unrecorded: number
  /** Acked messages a witness on the sender's node did not get (local delivery goes on whatever the network does). */
  lostLocal: number
  /** Acked messages with an offset a witness on another node still lacked after joining again with `since`. */
  lostWithOffset: number
  /** Acked messages without offset a witness on another node never got (the loss the fault may cause). */
  lostWithoutOffset: number
  /** Whether every rejoin with `since` said `recovered: true`. */
  recovered: boolean
  duplicates: number
  offsetsNotRising: number
  crashed: number
  /** Every client listed in room_members of both rooms, asked on every node. */
  membersBack: boolean
  /** ms from the end of the fault (heal; for the stall, its start) to the first delivery on node 3 of a message node 1 sent after it. */
  resumedToCutMs: number | null
  /** The same, on node 2, of a message node 3 sent. */
  resumedFromCutMs: number | null
  /** ms from the end of the fault until every member was listed on every node. */
  membersBackMs: number | null
  /** Each node's warn and error log lines (up to 12, message and error), to tell what went wrong when an assertion fails. */
  warnings: string[][]
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))


async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check() && Date.now() < end) await sleep(20)
}

export interface NetworkCluster {
  nodes: NodeProcess[]
  proxies: TcpProxy[]
  clients: TestClient[]
  close(): Promise<void>
}

/** Runs one network fault on a fresh 3-node cluster; `cluster` is closed by the caller through `onCluster`. */
export async function runNetworkFault(backend: Backend, fault: NetworkFault, onCluster: (c: NetworkCluster) => void): Promise<NetworkReport> {
  const scheme = backend.name === 'redis' ? 'redis' : 'nats'
  const prefix = testPrefix()
  const cluster: NetworkCluster = {
    nodes: [],
    proxies: [],
    clients: [],
    async close() {
      for (const c of this.clients) c.socket.terminate()
      const stuck = await Promise.all(this.nodes.map((node) => stopNode(node)))
      await Promise.all(this.proxies.map((p) => p.close()))
      if (stuck.some(Boolean)) throw new Error(`node ${stuck.indexOf(true) + 1} did not exit within ${STOP_WAIT_MS / 1000} s of SIGTERM (killed)`)
    },
  }
  onCluster(cluster)
  for (let i = 0; i < 3; i++) cluster.proxies.push(await TcpProxy.start(backend.service!.url))
  const url = (i: number) => cluster.proxies[i]!.url(scheme)
  const env = (i: number) =>
    clusterEnv(backend, prefix, `${prefix}n${i + 1}`, {
      WSHUB_CLUSTER_NODE_TTL_MS: String(NET_TTL_MS),
      WSHUB_ROOMS_HISTORY_SIZE: '5000',
      ...(scheme === 'redis' ? { WSHUB_CLUSTER_REDIS_URL: url(i) } : { WSHUB_CLUSTER_NATS_SERVERS: url(i) }),
    })
  // Those that started are closed by the caller even if another did not.
  const started = await Promise.allSettled([0, 1, 2].map((i) => spawnNode(env(i))))
  for (const s of started) if (s.status === 'fulfilled') cluster.nodes.push(s.value)
  const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  const connect = async (i: number) => {
    const client = await TestClient.connect(`ws://127.0.0.1:${cluster.nodes[i]!.port}/ws`)
    cluster.clients.push(client)
    return client
  }
  const rooms = ['net-a', 'net-b'] as const
  const [s1, s3] = [await connect(0), await connect(2)]
  const witnesses = [await connect(0), await connect(1), await connect(2)]
  await s1.request('join_room', { room_id: 'net-a' })
  await s3.request('join_room', { room_id: 'net-b' })
  for (const w of witnesses) for (const room of rooms) await w.request('join_room', { room_id: room })
  // Per room: its sender, the node it is on, and each witness's view of it.
  const flows = [
    { room: 'net-a', sender: new Sender(s1, 'net-a'), node: 0, views: witnesses.map((w) => new Receiver(w, 'net-a')) },
    { room: 'net-b', sender: new Sender(s3, 'net-b'), node: 2, views: witnesses.map((w) => new Receiver(w, 'net-b')) },
  ]
  for (const flow of flows) flow.sender.start(20)
  await sleep(1500)

  const cut = cluster.proxies[2]!
  let faultEnd: number
  if (fault === 'partition-short' || fault === 'partition-long') {
    cut.partition()
    await sleep(fault === 'partition-short' ? 2000 : 2 * NET_TTL_MS)
    cut.heal()
    faultEnd = performance.now()
  } else if (fault === 'latency') {
    cut.delay(100)
    await sleep(4000)
    cut.delay(0)
    faultEnd = performance.now()
  } else {
    cut.stall()
    faultEnd = performance.now()
  }
  const [toCut, fromCut] = [flows[0]!.views[2]!, flows[1]!.views[1]!]
  await until(() => resumedAfter(flows[0]!.sender, toCut, faultEnd) !== null && resumedAfter(flows[1]!.sender, fromCut, faultEnd) !== null, 30_000)

  const expected = [[s1.id, ...witnesses.map((w) => w.id)], [s3.id, ...witnesses.map((w) => w.id)]]
  const listedEverywhere = async () => {
    for (const w of witnesses) {
      for (const [r, room] of rooms.entries()) {
        const reply = await w.request('room_members', { room_id: room }, undefined, 10_000)
        const ids = ((reply.data.members ?? []) as Array<{ client_id: string }>).map((m) => m.client_id)
        if (!expected[r]!.every((id) => ids.includes(id))) return false
      }
    }
    return true
  }
  let membersBack = false
  let membersBackMs: number | null = null
  const end = Date.now() + 30_000
  while (!membersBack && Date.now() < end) {
    membersBack = await listedEverywhere().catch(() => false)
    if (membersBack) membersBackMs = Math.round(performance.now() - faultEnd)
    else await sleep(100)
  }
  await sleep(1500)
  // Every request answered before anyone rejoins: a node's backlog built during the fault
  // (each frame waiting on the state, up to its bound) can take a while to drain under load,
  // and a message acked after a witness rejoined would be counted as lost by it.
  await Promise.all(flows.map((f) => f.sender.stop(30_000)))
  await sleep(500)

  // Those on other nodes join again with `since`; the witness beside the sender needs no replay.
  let recovered = true
  for (const flow of flows) {
    const unrecorded = flow.views[flow.node]!.withoutOffset
    for (const [i, view] of flow.views.entries()) {
      if (i === flow.node) continue
      await view.recover(flow.sender.acked, true, unrecorded)
      if (view.recovered !== true) recovered = false
    }
  }
  await sleep(300)

  let lostLocal = 0, lostWithOffset = 0, lostWithoutOffset = 0, unrecorded = 0
  for (const flow of flows) {
    const local = flow.views[flow.node]!
    const withoutOffset = local.withoutOffset
    unrecorded += [...flow.sender.acked].filter((seq) => withoutOffset.has(seq)).length
    lostLocal += local.missing(flow.sender.acked).length
    for (const [i, view] of flow.views.entries()) {
      if (i === flow.node) continue
      const missing = view.missing(flow.sender.acked)
      lostWithOffset += missing.filter((seq) => !withoutOffset.has(seq)).length
      lostWithoutOffset += missing.filter((seq) => withoutOffset.has(seq)).length
    }
  }
  const views = flows.flatMap((f) => f.views)
  return {
    fault,
    backend: backend.name,
    sent: flows.reduce((n, f) => n + f.sender.sent, 0),
    acked: flows.reduce((n, f) => n + f.sender.acked.size, 0),
    refused: flows.reduce((n, f) => n + f.sender.failed.size, 0),
    refusedCodes: flows.reduce((codes, f) => {
      for (const [code, n] of Object.entries(f.sender.errorCodes)) codes[code] = (codes[code] ?? 0) + n
      return codes
    }, {} as Record<string, number>),
    unanswered: flows.reduce((n, f) => n + f.sender.sent - f.sender.acked.size - f.sender.failed.size, 0),
    unrecorded,
    lostLocal,
    lostWithOffset,
    lostWithoutOffset,
    recovered,
    duplicates: views.reduce((n, v) => n + v.duplicates().length, 0),
    offsetsNotRising: views.reduce((n, v) => n + v.offsetsNotRising(), 0),
    crashed: cluster.nodes.filter((n) => n.child.exitCode !== null || n.child.signalCode !== null).length,
    membersBack,
    resumedToCutMs: resumedAfter(flows[0]!.sender, toCut, faultEnd),
    resumedFromCutMs: resumedAfter(flows[1]!.sender, fromCut, faultEnd),
    membersBackMs,
    warnings: cluster.nodes.map((node) =>
      node.lines
        .filter((l) => typeof l.level === 'number' && l.level >= 40)
        .slice(0, 12)
        .map((l) => `${l.msg}${l.err ? `: ${typeof l.err === 'string' ? l.err : JSON.stringify(l.err).slice(0, 200)}` : ''}`),
    ),
  }
}
