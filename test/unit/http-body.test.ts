import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { PassThrough } from 'node:stream'
import type { IncomingMessage } from 'node:http'
import { HttpError, readJsonBody } from '../../lib/http-body.js'

/** A request body stream with headers, as `http` gives one. */
function body(headers: Record<string, string> = {}): PassThrough & { headers: Record<string, string> } {
  return Object.assign(new PassThrough(), { headers })
}

function read(req: PassThrough & { headers: Record<string, string> }, limit?: number) {
  return readJsonBody(req as unknown as IncomingMessage, limit)
}

describe('readJsonBody', () => {
  it('parses a JSON body sent in several chunks', async () => {
    const req = body()
    const result = read(req)
    req.write('{"message":')
    req.end('"hi"}')
    assert.deepEqual(await result, { message: 'hi' })
  })

  it('reads an empty body as undefined', async () => {
    const req = body()
    const result = read(req)
    req.end()
    assert.equal(await result, undefined)
  })

  it('fails with 400 and code 1001 on bad JSON', async () => {
    const req = body()
    const result = read(req)
    req.end('{nope')
    await assert.rejects(result, (err: HttpError) => err.status === 400 && err.code === 1001)
  })

  it('fails with 413 from a content-length over the limit, without reading a byte', async () => {
    const req = body({ 'content-length': '11' })
    let read_ = false
    req.on('data', () => (read_ = true))
    req.pause()
    await assert.rejects(read(req, 10), (err: HttpError) => err.status === 413 && err.code === 4002)
    assert.equal(read_, false)
  })

  it('fails with 413 as soon as streamed bytes pass the limit, and stops reading', async () => {
    const req = body()
    const result = read(req, 10)
    req.write('12345')
    req.write('678901')
    await assert.rejects(result, (err: HttpError) => err.status === 413)
    assert.equal(req.listenerCount('data'), 0)
    assert.equal(req.isPaused(), true)
  })

  it('accepts a body of exactly the limit', async () => {
    const req = body()
    const result = read(req, 7)
    req.end('"12345"')
    assert.equal(await result, '12345')
  })

  it('asks for the connection to close after a 413', async () => {
    const req = body({ 'content-length': '100' })
    await assert.rejects(read(req, 10), (err: HttpError) => err.headers.connection === 'close')
  })
})
