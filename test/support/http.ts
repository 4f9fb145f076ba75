/**
 * Real HTTP requests (global fetch) against a node's HTTP API, for tests.
 */

export interface ApiAnswer {
  status: number
  headers: Headers
  /** The parsed JSON body, or null for an empty one. */
  body: any
}

export interface ApiRequest {
  method?: string
  /** JSON-encoded unless it is already a string. */
  body?: unknown
  /** A bearer token; `null` sends no Authorization header. */
  token?: string | null
  headers?: Record<string, string>
}

/** Calls `base + path` and reads the answer as JSON. */
export async function callApi(base: string, path: string, request: ApiRequest = {}): Promise<ApiAnswer> {
  const headers: Record<string, string> = { ...request.headers }
  if (request.token !== undefined && request.token !== null) headers.authorization = `Bearer ${request.token}`
  let body: string | undefined
  if (request.body !== undefined) {
    body = typeof request.body === 'string' ? request.body : JSON.stringify(request.body)
    headers['content-type'] ??= 'application/json'
  }
  const res = await fetch(base + path, { method: request.method ?? 'GET', headers, body })
  const text = await res.text()
  return { status: res.status, headers: res.headers, body: text === '' ? null : JSON.parse(text) }
}

/** Resolves once `check` is true, polling; rejects after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const until = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`${what} not reached within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
