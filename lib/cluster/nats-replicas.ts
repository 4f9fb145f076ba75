/**
 * `cluster.nats.replicas`: how many servers of a NATS cluster keep each JetStream KV
 * bucket and the history stream. Every bucket of the state is made through one
 * {@link ReplicatedKvm}, so no call site can forget the count. A bucket that exists
 * already keeps the replicas it was made with (JetStream KV opens it as it is).
 */
import { Kvm, type KvOptions } from '@nats-io/kv'
import type { JetStreamClient } from '@nats-io/jetstream'
import { errors } from '@nats-io/transport-node'

/** Tries at making one bucket when the cluster leaves the lookup unanswered (see {@link ReplicatedKvm}). */
const CREATE_TRIES = 3

/**
 * A `Kvm` whose buckets are made with `replicas` copies. Making a bucket is retried on a
 * request timeout: in a NATS cluster, the stream lookup that starts it goes unanswered
 * while another client is making the same bucket (the stream is assigned but not yet
 * running), which happens when nodes start together or first use a bucket together.
 * Observed on 2.9.10 with three servers under load: 2 times in 120 to 150 tries.
 *
 * @example
 * ```ts
 * const kvm = new ReplicatedKvm(jetstream(nc), 3)
 * const kv = await kvm.create('wshub_state', { history: 1 })   // 3 replicas
 * ```
 */
export class ReplicatedKvm extends Kvm {
  constructor(js: JetStreamClient, readonly replicas: number) {
    super(js)
  }

  override async create(name: string, opts: Partial<KvOptions> = {}) {
    for (let tried = 1; ; tried++) {
      try {
        return await super.create(name, { ...opts, replicas: this.replicas })
      } catch (err) {
        if (!(err instanceof errors.TimeoutError) || tried === CREATE_TRIES) throw err
      }
    }
  }
}

/** The first nats-server whose replicated streams check an update's expected revision as part of the write (nats-io/nats-server#4320). */
export const SAFE_REPLICATED_CAS = [2, 9, 21] as const

/**
 * Refuses `replicas` > 1 on a server older than {@link SAFE_REPLICATED_CAS}: there two
 * compare-and-sets of the same revision, in flight together, can both be accepted by a
 * replicated stream, so a room could take more than `max_clients` members, lose a join,
 * or give one history offset twice. Observed here on 2.9.10 with the state contract.
 *
 * @example
 * ```ts
 * checkReplicas('2.10.4', 3)   // fine
 * checkReplicas('2.9.10', 3)   // throws, naming cluster.nats.replicas
 * ```
 */
export function checkReplicas(version: string | undefined, replicas: number): void {
  if (replicas <= 1 || version === undefined) return
  const [major = 0, minor = 0, patch = 0] = version.split(/[.-]/).map((part) => Number.parseInt(part, 10) || 0)
  const [M, m, p] = SAFE_REPLICATED_CAS
  const older = major !== M ? major < M : minor !== m ? minor < m : patch < p
  if (older) {
    throw new Error(
      `cluster.nats.replicas: ${replicas} needs nats-server ${SAFE_REPLICATED_CAS.join('.')} or later; this one is ${version}, whose replicated streams ` +
        'can accept two updates of one revision (nats-io/nats-server#4320), which breaks max_clients and history offsets. Upgrade the servers or set cluster.nats.replicas to 1',
    )
  }
}
