// The dashboard's one way to the node: the HTTP API, with the token held in this
// module's memory only (never in a URL, a cookie or storage; a reload logs out).

let token = null
let onRefused = () => {}

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`)
    this.status = status
    this.code = body?.code ?? null
  }
}

/** Keeps the token; `refused` runs when the node answers 401 to it later (expired JWT, rotated token). */
export function login(newToken, refused) {
  token = newToken
  onRefused = refused
}

export function logout() {
  token = null
}

export function loggedIn() {
  return token !== null
}

function headers(json) {
  const h = { authorization: `Bearer ${token}` }
  if (json) h['content-type'] = 'application/json'
  return h
}

/** One API call; resolves to the JSON body (null for 204), rejects with an ApiError. */
export async function api(method, path, body) {
  const res = await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' })
  const data = res.status === 204 ? null : await res.json().catch(() => null)
  if (res.status === 401 && token !== null) onRefused(data?.message ?? 'the node refused the token')
  if (!res.ok) throw new ApiError(res.status, data)
  return data
}

/**
 * Reads `GET /api/stats/stream` (Server-Sent Events through fetch: an EventSource cannot
 * send the Authorization header) and calls `onStats` with each event's figures, coming
 * back after a drop until `signal` aborts or the node ends it with `unauthorized`.
 * `onState` hears 'live' and 'reconnecting'.
 */
export async function streamStats(signal, onStats, onState) {
  while (!signal.aborted && token !== null) {
    try {
      const res = await fetch('/api/stats/stream?interval_ms=1000', { headers: headers(false), signal, cache: 'no-store' })
      if (res.status === 401) {
        onRefused('the node refused the token')
        return
      }
      if (!res.ok || res.body === null) throw new ApiError(res.status, null)
      onState('live')
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ''
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value
        let end
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const event = parseEvent(buffer.slice(0, end))
          buffer = buffer.slice(end + 2)
          if (event.type === 'stats') onStats(JSON.parse(event.data))
          else if (event.type === 'unavailable') onState('reconnecting')
          else if (event.type === 'unauthorized') {
            // The node no longer accepts the token (an expired JWT): log out rather than retry.
            onRefused(JSON.parse(event.data).message ?? 'the node refused the token')
            return
          }
        }
      }
    } catch (err) {
      if (signal.aborted) return
    }
    onState('reconnecting')
    await new Promise((resolve) => setTimeout(resolve, 2000))
  }
}

function parseEvent(block) {
  let type = 'message'
  const data = []
  for (const line of block.split('\n')) {
    if (line.startsWith('event:')) type = line.slice(6).trim()
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart())
  }
  return { type, data: data.join('\n') }
}
