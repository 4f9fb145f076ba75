import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { checkReplicas } from '../../../lib/cluster/nats-replicas.js'

describe('checkReplicas', () => {
  it('lets one replica through on any server', () => {
    checkReplicas('2.9.10', 1)
    checkReplicas(undefined, 1)
  })

  it('refuses more than one replica on a server before 2.9.21, naming the key and the server', () => {
    for (const version of ['2.9.10', '2.9.20', '2.8.4', '1.4.1']) {
      assert.throws(() => checkReplicas(version, 3), (err: Error) => /cluster\.nats\.replicas: 3/.test(err.message) && err.message.includes(version), version)
    }
  })

  it('lets replicas through on 2.9.21 and later', () => {
    for (const version of ['2.9.21', '2.10.0', '2.10.4-beta', '2.11.0', '3.0.0']) checkReplicas(version, 3)
  })
})
