/**
 * The small HTTP pieces of the HTTP API: a JSON body read with a hard size limit (never
 * buffered past it), a JSON answer, and an error that carries its HTTP status and
 * protocol code.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { ErrorCode } from './errors.js'

/** Largest request body the API reads: 1 MiB. */
export const MAX_BODY_BYTES = 1024 * 1024

/** An HTTP answer with a status and a `{code, message}` body. */
export class HttpError extends Error {
  readonly status: number
  readonly code: number
  readonly headers: Record<string, string>
  constructor(status: number, code: number, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.name = 'HttpError'
    this.status = status
    this.code = code
    this.headers = headers
  }
}

/** Answers JSON (or nothing, for `undefined`). */
export function sendJson(res: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}): void {
  if (body === undefined) {
    res.writeHead(status, headers).end()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(text)), ...headers })
  res.end(text)
}

/** Answers an {@link HttpError}. */
export function sendError(res: ServerResponse, err: HttpError): void {
  sendJson(res, err.status, { code: err.code, message: err.message }, err.headers)
}

function tooLarge(limit: number): HttpError {
  // The rest of the body is not read: the connection closes after the answer.
  return new HttpError(413, ErrorCode.MessageTooLarge, `request body is larger than ${limit} bytes`, { connection: 'close' })
}

/**
 * Reads a request body as JSON. Over `limit` bytes it fails with 413 at once, from the
 * `content-length` when there is one, else as soon as the streamed bytes pass it, and
 * stops reading. An empty body reads as `undefined`; bad JSON fails with 400.
 *
 * @example
 * ```ts
 * const body = await readJsonBody(req)   // throws HttpError 400 or 413
 * ```
 */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) throw tooLarge(limit)
  const text = await new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        stop()
        req.pause()
        reject(tooLarge(limit))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      stop()
      resolve(Buffer.concat(chunks, size).toString('utf8'))
    }
    const onError = (err: Error) => {
      stop()
      reject(err)
    }
    const stop = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
  if (text.trim() === '') return undefined
  try {
    return JSON.parse(text) as unknown
  } catch {
    throw new HttpError(400, ErrorCode.InvalidFormat, 'the body is not valid JSON')
  }
}
