import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { formatPath, invalidData, MAX_ISSUES, MAX_KEY, MAX_MESSAGE, MAX_PATH, type DataIssues } from '../../../lib/schema/issues.js'

describe('invalidData', () => {
  it('is a 1001 naming the first failing path, with each issue in details', () => {
    const err = invalidData([
      { message: 'must be a string', path: ['room_id'] },
      { message: 'is required', path: [{ key: 'items' }, 0, 'qty'] },
    ])
    assert.equal(err.code, 1001)
    assert.equal(err.message, 'data.room_id: must be a string (and 1 more)')
    assert.deepEqual(err.details, {
      issues: [
        { path: ['room_id'], message: 'must be a string' },
        { path: ['items', 0, 'qty'], message: 'is required' },
      ],
    })
  })

  it('names data itself for an issue without a path', () => {
    const err = invalidData([{ message: 'must be an object' }])
    assert.equal(err.message, 'data: must be an object')
    assert.deepEqual(err.details, { issues: [{ path: [], message: 'must be an object' }] })
  })

  it('keeps at most MAX_ISSUES issues and counts the rest', () => {
    const issues = Array.from({ length: 5000 }, (_, i) => ({ message: 'bad', path: [i] }))
    const details = invalidData(issues).details as DataIssues
    assert.equal(details.issues.length, MAX_ISSUES)
    assert.equal(details.omitted, 5000 - MAX_ISSUES)
  })

  it('clips long messages, long keys and deep paths, so details stay a few KiB whatever the validator reports', () => {
    const deep = Array.from({ length: 1000 }, () => 'k'.repeat(10_000))
    const issues = Array.from({ length: 50 }, () => ({ message: 'm'.repeat(100_000), path: [Symbol('s'), ...deep] }))
    const err = invalidData(issues)
    const details = err.details as DataIssues
    for (const issue of details.issues) {
      assert.ok(issue.message.length <= MAX_MESSAGE)
      assert.equal(issue.path.length, MAX_PATH + 1)
      assert.equal(issue.path.at(-1), '…')
      for (const key of issue.path) assert.ok(String(key).length <= MAX_KEY)
    }
    assert.equal(details.issues[0]!.path[0], 'Symbol(s)')
    assert.ok(JSON.stringify(err.details).length < 8 * 1024, `details are ${JSON.stringify(err.details).length} bytes`)
    assert.ok(err.message.length < 2 * 1024)
  })
})

describe('formatPath', () => {
  it('writes keys as a reader would', () => {
    assert.equal(formatPath([]), 'data')
    assert.equal(formatPath(['items', 0, 'qty']), 'data.items[0].qty')
    assert.equal(formatPath(['a b']), 'data["a b"]')
  })
})
