import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { AppError, ErrorCode, HandshakeError, defaultMessage, isAppError } from '../../lib/errors.js'

describe('AppError', () => {
  it('carries its code, message and details', () => {
    const err = new AppError(ErrorCode.RoomFull, 'full', { max: 2 })
    assert.deepEqual([err.code, err.message, err.details, err.name], [3002, 'full', { max: 2 }, 'AppError'])
  })

  it('takes the default message of its code when given none', () => {
    assert.equal(new AppError(ErrorCode.NotInRoom).message, 'not in room')
  })
})

describe('defaultMessage', () => {
  it('has a text for every protocol code', () => {
    for (const code of Object.values(ErrorCode)) assert.notEqual(defaultMessage(code), 'error', String(code))
  })
})

describe('isAppError', () => {
  it('recognises an AppError and one from another copy of the package', () => {
    assert.equal(isAppError(new AppError(ErrorCode.Forbidden)), true)
    assert.equal(isAppError(Object.assign(new Error('x'), { name: 'AppError', code: 2001 })), true)
  })

  it('refuses plain errors and look-alikes whose code is not a protocol code', () => {
    assert.equal(isAppError(new Error('x')), false)
    assert.equal(isAppError(Object.assign(new Error('db password in here'), { name: 'AppError', code: 500 })), false)
    assert.equal(isAppError(Object.assign(new Error('x'), { name: 'AppError', code: 'E_FAIL' })), false)
    assert.equal(isAppError(null), false)
  })
})

describe('HandshakeError', () => {
  it('carries an HTTP status and an optional protocol code', () => {
    const err = new HandshakeError(401, 'no token', ErrorCode.Unauthorized)
    assert.deepEqual([err.status, err.code, err.message], [401, 2000, 'no token'])
  })
})
