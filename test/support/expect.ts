/**
 * Assertions on frames the server sent, shared by the integration tests.
 */
import assert from 'node:assert/strict'
import type { Frame, TestClient } from './ws-client.js'

/** Asserts an `error` frame with this code, and `request_id` when one is given (absent otherwise). */
export function assertError(frame: Frame, code: number, requestId: number | string | null = null): void {
  assert.equal(frame.message_type, 'error', `expected an error, got ${JSON.stringify(frame)}`)
  assert.equal(frame.data.code, code, `expected code ${code}, got ${JSON.stringify(frame)}`)
  assert.equal(typeof frame.data.message, 'string')
  if (requestId === null) assert.equal('request_id' in frame, false, `unexpected request_id in ${JSON.stringify(frame)}`)
  else assert.equal(frame.request_id, requestId)
}

let usableChecks = 0

/** Asserts the connection is still open and answering: a ping gets its pong. */
export async function assertUsable(client: TestClient): Promise<void> {
  // A string id of its own, so it never repeats a test's message_id (dedup would answer the repeat).
  const pong = await client.request('ping', { ts: 1 }, `usable-${++usableChecks}`)
  assert.equal(pong.message_type, 'pong')
}

/** Resolves after `ms`; for waits where the point is that nothing happens. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/** Polls until `check` is true; fails after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > until) assert.fail(`${what} not reached within ${timeoutMs} ms`)
    await sleep(10)
  }
}
