/**
 * The cluster faults of docs/reliability.md, each run on three real node processes with
 * room traffic going on: the bus server restarted (Redis or NATS), a node killed with
 * SIGKILL, a node frozen with SIGSTOP past the node TTL and resumed. Each returns what
 * the receivers got; the tests assert the behaviour, `npm run faults` prints the figures.
 */
import type { Backend } from './backends.js'
import { spawnCluster, type ProcessCluster } from './cluster.js'
import { Receiver, Sender, resumedAfter } from './fault-traffic.js'
import { TestClient } from './ws-client.js'
import { RedisCluster } from './redis-cluster.js'
import { RedisSentinels } from './redis-sentinel.js'
import { NatsCluster } from './nats-cluster.js'
import type { Service } from './services.js'

/**
 * `master-kill`: SIGKILL of the Redis master the room lives on (on a Redis Cluster, a
 * room whose subject shares its master with the state's slot; with Sentinels, the
 * master); `server-kill`: SIGKILL of the NATS server that node 2's bus is connected to
 * (node 3's when node 2's holds the state's one replica).
 * Either server is started again once delivery resumed, and comes back as a replica (or
 * a cluster member that catches up).
 */
export type FaultName = 'bus-restart' | 'sigkill' | 'sigstop' | 'master-kill' | 'server-kill'

export const NODE_TTL_MS = 1500

export interface FaultReport {
  fault: string
  backend: string
  /** Messages the sender sent, and how many of them were acked. */
  sent: number
  acked: number
  /** Requests that failed (an error instead of the ack) while the fault lasted. */
  refused: number
  /** Acked messages delivered without offset: the state was out of reach, so their room's history could not keep them, nor a receiver recover them. */
  unrecorded: number
  /** Of those, the ones the affected receiver never got (they reached no other node while the bus was down). */
  lostUnrecorded: number
  /** Acked messages the member on the sender's node did not get: local delivery goes on whatever the fault (PROTOCOL.md section 6). */
  lostLocal: number
  /** ms from the end of the fault (restart, SIGCONT; the kill for SIGKILL) to the first cross-node delivery of a later message. */
  resumedMs: number | null
  /** Acked messages a remote receiver did not get live. */
  lostLive: number
  /** Acked messages with an offset (kept in the history) still missing after the receiver joined again with `since`. */
  lostAfterRecovery: number
  /** Whether that rejoin said `recovered: true`. */
  recovered: boolean | null
  /** Messages a receiver saw with an offset not above that of the message sent before (offsets given again after a loss). */
  offsetsNotRising: number
  /** Messages delivered live twice to one receiver. */
  duplicates: number
  /** Node processes that exited on their own. */
  crashed: number
  /** Every receiver is listed in room_members again (the frozen node re-registered its members). */
  membersBack: boolean
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function until(check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check() && Date.now() < end) await sleep(20)
}

/** Runs one fault on a fresh 3-node cluster; `cluster` is closed by the caller through `onCluster`. */
export async function runFault(backend: Backend, fault: FaultName, onCluster: (c: ProcessCluster) => void): Promise<FaultReport> {
  // On a NATS cluster each node starts on its own server (the others it learns from the
  // cluster, for reconnecting): at most one receiver's server then holds the state's one
  // replica, and the fault below can always take a node's server that does not.
  const seeds = backend.engine instanceof NatsCluster ? backend.engine.urls : null
  const ownServer = seeds === null ? undefined : (i: number) => ({ WSHUB_CLUSTER_NATS_SERVERS: seeds[i % seeds.length]! })
  const cluster = await spawnCluster(backend, 3, { WSHUB_CLUSTER_NODE_TTL_MS: String(NODE_TTL_MS), WSHUB_ROOMS_HISTORY_SIZE: '5000' }, ownServer)
  onCluster(cluster)
  const room = fault === 'master-kill' && backend.engine instanceof RedisCluster ? await roomOnStateShard(backend.engine, cluster.prefix) : 'faulty'
  const [s, w, a, b] = [await cluster.connect(0), await cluster.connect(0), await cluster.connect(1), await cluster.connect(2)]
  for (const c of [s, w, a, b]) await c.request('join_room', { room_id: room })
  const sender = new Sender(s, room)
  // A member beside the sender: it gets every message, which says which ones carried an offset.
  const witness = new Receiver(w, room)
  const receivers = [new Receiver(a, room), new Receiver(b, room)]
  // The receiver on node 3 is the one the node faults hit; the one on node 2 sees the bus faults.
  let victim = fault === 'sigkill' || fault === 'sigstop' ? receivers[1]! : receivers[0]!
  let killed: Service | null = null
  if (fault === 'server-kill') {
    // With one replica the state lives on one server: losing that one is the state's
    // outage (the NATS restart of cluster-fault-recovery), not a node's server going. Take
    // the node (2, else 3) whose bus server does not hold the state.
    const engine = backend.engine as NatsCluster
    const stateHost = await engine.streamLeader(`KV_${cluster.prefix}_state`)
    for (const [i, receiver] of [[1, receivers[0]!], [2, receivers[1]!]] as const) {
      const server = await engine.serverWithSubscription(`${cluster.prefix}.node.${cluster.prefix}n${i + 1}`)
      if (server !== stateHost || i === 2) {
        killed = server
        victim = receiver
        if (server !== stateHost) break
      }
    }
  }
  sender.start(20)
  await sleep(1500)

  let faultEnd: number
  if (fault === 'master-kill') {
    const engine = backend.engine
    killed = engine instanceof RedisCluster ? await engine.masterOf(`{${cluster.prefix}}:rooms`) : await (engine as RedisSentinels).master()
    await killed.stop('SIGKILL')
    faultEnd = performance.now()
  } else if (fault === 'server-kill') {
    await killed!.stop('SIGKILL')
    faultEnd = performance.now()
  } else if (fault === 'bus-restart') {
    await backend.service!.stop()
    await sleep(3000)
    await backend.service!.start()
    faultEnd = performance.now()
  } else if (fault === 'sigkill') {
    cluster.nodes[2]!.child.kill('SIGKILL')
    faultEnd = performance.now()
    await cluster.nodes[2]!.exited
    // Its client reconnects to a node still alive and recovers from there.
    const again = await TestClient.connect(`ws://127.0.0.1:${cluster.nodes[1]!.port}/ws`)
    victim.listen(again)
    await victim.recover(sender.acked, false, witness.withoutOffset)
  } else {
    cluster.nodes[2]!.child.kill('SIGSTOP')
    await sleep(NODE_TTL_MS + 2500)
    cluster.nodes[2]!.child.kill('SIGCONT')
    faultEnd = performance.now()
  }
  // A Sentinel election that fails is tried again after twice the failover timeout (10 s
  // here): on a loaded machine a failover can take that long.
  await until(() => resumedAfter(sender, victim, faultEnd) !== null, killed !== null ? 60_000 : 20_000)
  if (killed !== null) {
    await killed.start()
    if (backend.engine instanceof NatsCluster) await backend.engine.waitJetStream()
  }
  const members = async () => ((await s.request('room_members', { room_id: room }, undefined, 10_000)).data.members ?? []).map((m: { client_id: string }) => m.client_id) as string[]
  let membersBack = false
  const end = Date.now() + 20_000
  while (!membersBack && Date.now() < end) {
    // A state still failing over may answer late or not at all (a request that times out
    // while the state recovers is asked again, not a failed run).
    const ids = await members().catch(() => [] as string[])
    membersBack = receivers.every((r) => ids.includes(r.client.id))
    if (!membersBack) await sleep(100)
  }
  await sleep(1500)
  await sender.stop()
  await sleep(500)
  const lostLive = victim.missedLive(sender.acked).length
  if (fault !== 'sigkill') await victim.recover(sender.acked, true, witness.withoutOffset)
  await sleep(300)
  const missing = victim.missing(sender.acked)
  const exited = cluster.nodes.filter((n, i) => !(fault === 'sigkill' && i === 2)).filter((n) => n.child.exitCode !== null || n.child.signalCode !== null)
  return {
    fault,
    backend: backend.name,
    sent: sender.sent,
    acked: sender.acked.size,
    refused: sender.failed.size,
    unrecorded: [...sender.acked].filter((seq) => witness.withoutOffset.has(seq)).length,
    lostUnrecorded: missing.filter((seq) => witness.withoutOffset.has(seq)).length,
    lostLocal: witness.missing(sender.acked).length,
    resumedMs: resumedAfter(sender, victim, faultEnd),
    lostLive,
    lostAfterRecovery: missing.filter((seq) => !witness.withoutOffset.has(seq)).length,
    recovered: victim.recovered,
    offsetsNotRising: [witness, ...receivers].reduce((n, r) => n + r.offsetsNotRising(), 0),
    duplicates: [witness, ...receivers].reduce((n, r) => n + r.duplicates().length, 0),
    crashed: exited.length,
    membersBack,
  }
}

/** A room id whose bus subject lives on the master that holds the state's slot, so one kill hits both. */
async function roomOnStateShard(engine: RedisCluster, prefix: string): Promise<string> {
  const stateMaster = (await engine.masterOf(`{${prefix}}:rooms`)).port
  for (let i = 0; i < 100; i++) {
    const room = `faulty${i}`
    if ((await engine.masterOf(`${prefix}.room.${room}`)).port === stateMaster) return room
  }
  throw new Error('no room id within 100 tries lives on the state master')
}
