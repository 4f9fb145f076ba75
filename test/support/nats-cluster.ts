/**
 * A real NATS cluster for tests: three `nats-server`s with JetStream, routed to each
 * other (one config file each: `server_name`, `jetstream { store_dir }`, `cluster {
 * name, listen, routes }`), on free loopback ports, each stopped by its PID and
 * restartable with its data. Start it once per test file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect } from '@nats-io/transport-node'
import { jetstreamManager } from '@nats-io/jetstream'
import { freePort, Service } from './services.js'
import { checkReplicas } from '../../lib/cluster/nats-replicas.js'
import { waitFor } from './redis-cluster.js'

export class NatsCluster {
  /** The servers' version, once started. */
  version = ''

  private constructor(readonly servers: Service[], private readonly monitorPorts: number[]) {}

  /**
   * The replicas the state can use on these servers: 3, or 1 on a server older than
   * 2.9.21, where wshub refuses more (lib/cluster/nats-replicas.ts).
   */
  get replicas(): number {
    try {
      checkReplicas(this.version, 3)
      return 3
    } catch {
      return 1
    }
  }

  /** The client URLs of the servers, for `cluster.nats.servers`. */
  get urls(): string[] {
    return this.servers.map((s) => s.url)
  }

  static async start(size = 3): Promise<NatsCluster> {
    const ports = await Promise.all(Array.from({ length: size }, () => freePort()))
    const routePorts = await Promise.all(Array.from({ length: size }, () => freePort()))
    const monitorPorts = await Promise.all(Array.from({ length: size }, () => freePort()))
    const name = `wshub${ports[0]}`
    const servers = ports.map((port, i) => {
      const dir = mkdtempSync(join(tmpdir(), 'wshub-ncluster-'))
      const conf = join(dir, 'server.conf')
      writeFileSync(conf, [
        `server_name: ${name}-n${i + 1}`,
        `listen: 127.0.0.1:${port}`,
        `http: 127.0.0.1:${monitorPorts[i]}`,
        `jetstream { store_dir: ${JSON.stringify(join(dir, 'js'))} }`,
        `cluster {`,
        `  name: ${name}`,
        `  listen: 127.0.0.1:${routePorts[i]}`,
        `  routes: [${routePorts.map((p) => `nats://127.0.0.1:${p}`).join(', ')}]`,
        `}`,
        '',
      ].join('\n'))
      return new Service('nats', port, ['-c', conf], dir)
    })
    const cluster = new NatsCluster(servers, monitorPorts)
    try {
      await Promise.all(servers.map((s) => s.start()))
      await cluster.waitJetStream()
      return cluster
    } catch (err) {
      await cluster.close()
      throw err
    }
  }

  /** Waits until JetStream and every stream answer through every running server (the cluster has a meta leader, each stream a leader). */
  async waitJetStream(timeoutMs = 30_000): Promise<void> {
    for (const server of this.servers) {
      if (server.pid === null) continue
      const nc = await connect({ servers: server.url, reconnect: false })
      this.version = nc.info?.version ?? ''
      try {
        await waitFor(`JetStream through ${server.url}`, async () => {
          const jsm = await jetstreamManager(nc, { timeout: 1000 })
          await jsm.getAccountInfo()
          // A restarted server's streams (the R1 buckets it holds) answer a moment after JetStream does.
          for await (const name of jsm.streams.names()) await jsm.streams.info(name)
          return true
        }, timeoutMs)
      } finally {
        await nc.close()
      }
    }
  }

  /** The server that leads stream `name` (with one replica: the one that holds it), or null when none does. */
  async streamLeader(name: string): Promise<Service | null> {
    const server = this.servers.find((s) => s.pid !== null)!
    const nc = await connect({ servers: server.url, reconnect: false })
    try {
      const info = await (await jetstreamManager(nc, { timeout: 2000 })).streams.info(name)
      const leader = info.cluster?.leader ?? ''
      const index = Number(leader.slice(leader.lastIndexOf('-n') + 2)) - 1
      return this.servers[index] ?? null
    } catch {
      return null
    } finally {
      await nc.close()
    }
  }

  /** The running server that has a client subscribed to `subject` (its /connz with subscriptions). */
  async serverWithSubscription(subject: string): Promise<Service> {
    for (let i = 0; i < this.servers.length; i++) {
      if (this.servers[i]!.pid === null) continue
      const res = await fetch(`http://127.0.0.1:${this.monitorPorts[i]}/connz?subs=1&limit=1024`)
      const body = (await res.json()) as { connections?: Array<{ subscriptions_list?: string[] }> }
      if ((body.connections ?? []).some((c) => c.subscriptions_list?.includes(subject))) return this.servers[i]!
    }
    throw new Error(`no server has a subscription to ${subject}`)
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close()))
  }
}
