/**
 * A real Redis Sentinel setup for tests: one master, one replica and three Sentinels
 * (`redis-server <conf> --sentinel`, quorum 2), on free loopback ports, each stopped by
 * its PID. The Sentinels call a master down after 1 s of silence, so a killed master is
 * replaced within a few seconds. Start it once per test file.
 */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, Service } from './services.js'
import { cli, waitFor } from './redis-cluster.js'

export const MASTER_NAME = 'wshubtest'

async function redisNode(extra: string[] = []): Promise<Service> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'wshub-rsentinel-'))
  const node = new Service('redis', port, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...extra], dir)
  await node.start()
  return node
}

export class RedisSentinels {
  private constructor(readonly data: Service[], readonly sentinels: Service[]) {}

  /** `host:port` of the Sentinels, for `cluster.redis.sentinels`. */
  get addresses(): string[] {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`)
  }

  static async start(): Promise<RedisSentinels> {
    const data: Service[] = []
    const sentinels: Service[] = []
    try {
      const master = await redisNode()
      data.push(master)
      data.push(await redisNode(['--replicaof', '127.0.0.1', String(master.port)]))
      for (let i = 0; i < 3; i++) {
        const port = await freePort()
        const dir = mkdtempSync(join(tmpdir(), 'wshub-sentinel-'))
        const conf = join(dir, 'sentinel.conf')
        writeFileSync(conf, [
          `port ${port}`, 'bind 127.0.0.1', `dir ${dir}`,
          `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${master.port} 2`,
          `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
          `sentinel failover-timeout ${MASTER_NAME} 5000`,
          `sentinel parallel-syncs ${MASTER_NAME} 1`,
          '',
        ].join('\n'))
        const sentinel = new Service('redis', port, [conf, '--sentinel'], dir)
        sentinels.push(sentinel)
        await sentinel.start()
      }
      const setup = new RedisSentinels(data, sentinels)
      await setup.waitHealthy()
      return setup
    } catch (err) {
      await Promise.all([...data, ...sentinels].map((s) => s.close()))
      throw err
    }
  }

  /** Waits until every Sentinel knows the replica and the other Sentinels, and the replica is in sync. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await waitFor('sentinels that know the replica and each other', async () => {
      for (const s of this.sentinels) {
        const out = await cli(s.port, 'sentinel', 'master', MASTER_NAME)
        const field = (name: string) => Number(out.split('\n')[out.split('\n').indexOf(name) + 1])
        if (field('num-slaves') < 1 || field('num-other-sentinels') < 2) return false
      }
      const master = await this.master()
      return /slave0:.*state=online/.test(await cli(master.port, 'info', 'replication'))
    }, timeoutMs)
  }

  /** The data node the Sentinels name master now. */
  async master(): Promise<Service> {
    const out = (await cli(this.sentinels[0]!.port, 'sentinel', 'get-master-addr-by-name', MASTER_NAME)).trim().split('\n')
    const port = Number(out[1])
    const node = this.data.find((n) => n.port === port)
    if (node === undefined) throw new Error(`the Sentinels name an unknown master: ${out.join(' ')}`)
    return node
  }

  async close(): Promise<void> {
    await Promise.all([...this.data, ...this.sentinels].map((s) => s.close()))
  }
}
