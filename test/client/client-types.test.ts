/**
 * Type tests: this file compiles only if the client's public types say what they should
 * (each `@ts-expect-error` must meet an error, or the build fails).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { WshubClient, type Frame, type Joined, type Welcome } from '../../lib/client/index.js'

function typeChecks(client: WshubClient): void {
  client.on('reconnecting', ({ attempt, delay }) => attempt + delay)
  client.on('rejoined', ({ room, recovered }) => `${room}${recovered ? '' : '?'}`)
  client.on('open', (welcome: Welcome) => welcome.heartbeat_ms)
  client.on<{ text: string }>('chat', (data, frame: Frame<{ text: string }>) => data.text + frame.message_type)
  // @ts-expect-error reconnecting carries attempt and delay, no room
  client.on('reconnecting', ({ room }) => room)
  // @ts-expect-error closed info has no attempt
  client.on('closed', (info) => info.attempt)
  const joined: Promise<Joined> = client.join('lobby', { since: 0 })
  // @ts-expect-error since is a number
  void client.join('lobby', { since: 'yesterday' })
  // @ts-expect-error tokenIn is protocol, query or header
  void new WshubClient('ws://x', { tokenIn: 'cookie' })
  void joined
}

describe('wshub/client types', () => {
  it('compile the checks above', () => {
    assert.equal(typeof typeChecks, 'function')
  })
})
