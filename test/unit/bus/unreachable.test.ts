/**
 * How the Redis and NATS clients' errors are told apart: out of reach (no connection, no
 * answer in time, a server not serving yet) or an answer (a refusal). Real servers stopped
 * for the first kind are in test/integration/state-unreachable.test.ts; these pin the rules.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ReplyError } from 'ioredis'
import { errors } from '@nats-io/transport-node'
import { isRedisUnreachable } from '../../../lib/bus/redis-client.js'
import { isNatsUnreachable } from '../../../lib/bus/nats-client.js'

const reply = (message: string) => new (ReplyError as unknown as new (message: string) => Error)(message)

describe('isRedisUnreachable', () => {
  it('takes a command that failed without an answer for Redis out of reach', () => {
    assert.equal(isRedisUnreachable(new Error("Stream isn't writeable and enableOfflineQueue options is false")), true)
    assert.equal(isRedisUnreachable(new Error('Command timed out')), true)
  })

  it('takes the replies of a Redis not serving yet for out of reach', () => {
    for (const message of ['LOADING Redis is loading the dataset in memory', 'BUSY Redis is busy running a script', 'MASTERDOWN Link with MASTER is down']) {
      assert.equal(isRedisUnreachable(reply(message)), true, message)
    }
  })

  it('takes any other reply for an answer', () => {
    assert.equal(isRedisUnreachable(reply('ERR Error running script')), false)
    assert.equal(isRedisUnreachable(reply('WRONGTYPE Operation against a key holding the wrong kind of value')), false)
    assert.equal(isRedisUnreachable('not an error'), false)
  })
})

describe('isNatsUnreachable', () => {
  // JetStream wraps a missing responder in its own "not enabled" error, as the third case does.
  it('takes timeouts, lost connections and a missing responder, wrapped or not, for NATS out of reach', () => {
    assert.equal(isNatsUnreachable(new errors.TimeoutError()), true)
    assert.equal(isNatsUnreachable(new errors.ClosedConnectionError()), true)
    assert.equal(isNatsUnreachable(new Error('jetstream is not enabled', { cause: new errors.RequestError('no responders', { cause: new errors.NoRespondersError('$JS.API.INFO') }) })), true)
  })

  it('takes anything else for an answer', () => {
    assert.equal(isNatsUnreachable(new Error('wrong last sequence: 41')), false)
    assert.equal(isNatsUnreachable(new errors.PermissionViolationError('denied', 'publish', 'x')), false)
  })
})
