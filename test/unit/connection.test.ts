import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { fitCloseReason } from '../../lib/connection.js'

describe('fitCloseReason', () => {
  it('keeps a reason that fits a close frame', () => {
    assert.equal(fitCloseReason('server shutting down'), 'server shutting down')
    assert.equal(fitCloseReason('x'.repeat(123)), 'x'.repeat(123))
  })

  it('cuts a longer ASCII reason to 123 bytes', () => {
    assert.equal(fitCloseReason('x'.repeat(500)), 'x'.repeat(123))
  })

  it('cuts multi-byte text on a character boundary', () => {
    const cut = fitCloseReason('é'.repeat(100))
    assert.equal(cut, 'é'.repeat(61))
    assert.ok(Buffer.byteLength(cut) <= 123)
  })

  it('does not split a surrogate pair', () => {
    const cut = fitCloseReason('a' + '😀'.repeat(40))
    assert.ok(Buffer.byteLength(cut) <= 123)
    assert.equal(Buffer.from(cut).toString(), cut)
    assert.equal(cut, 'a' + '😀'.repeat(30))
  })
})
