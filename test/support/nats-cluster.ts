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

  /** Waits until JetStream answers through every running server (the cluster has a meta leader). */
  async waitJetStream(timeoutMs = 30_000): Promise<void> {
    for (const server of this.servers) {
      if (server.pid === null) continue
      const nc = await connect({ servers: server.url, reconnect: false })
      this.version = nc.info?.version ?? ''
      try {
        await waitFor(`JetStream through ${server.url}`, async () => {
          const jsm = await jetstreamManager(nc, { timeout: 1000 })
          await jsm.getAccountInfo()
          return true
        }, timeoutMs)
      } finally {
        await nc.close()
      }
    }
  }

  /** `server index:cid` of every client connection named `name` on the running servers (their /connz). */
  async connections(name: string): Promise<Set<string>> {
    const out = new Set<string>()
    for (let i = 0; i < this.servers.length; i++) {
      if (this.servers[i]!.pid === null) continue
      const res = await fetch(`http://127.0.0.1:${this.monitorPorts[i]}/connz?limit=1024`)
      const body = (await res.json()) as { connections?: Array<{ cid: number; name?: string }> }
      for (const c of body.connections ?? []) if (c.name === name) out.add(`${i}:${c.cid}`)
    }
    return out
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => s.close()))
  }
}
