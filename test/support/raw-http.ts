/**
 * Raw HTTP/1.1 over a TCP socket, for requests that clients refuse to make (duplicate
 * headers, 100 KB headers, upgrades that must fail): resolves to the status and the
 * whole response text, headers and body.
 */
import { connect } from 'node:net'

export interface RawAnswer {
  /** 0 when the server closed without an answer. */
  status: number
  text: string
  body: string
}

/** Sends `GET path` with the given header lines (repeats allowed) and reads the answer until the server closes. */
export function rawRequest(port: number, path: string, headers: Array<[string, string]>, method = 'GET'): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    socket.on('data', (chunk) => {
      text += chunk.toString()
      // An upgrade that succeeded would stay open: stop at its 101.
      if (text.startsWith('HTTP/1.1 101')) socket.destroy()
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      const match = /^HTTP\/1\.1 (\d{3})/.exec(text)
      const cut = text.indexOf('\r\n\r\n')
      resolve({ status: match ? Number(match[1]) : 0, text, body: cut === -1 ? '' : text.slice(cut + 4) })
    })
    const lines = [`${method} ${path} HTTP/1.1`, 'Host: 127.0.0.1', ...headers.map(([k, v]) => `${k}: ${v}`)]
    socket.write(`${lines.join('\r\n')}\r\n\r\n`)
    // Without keep-alive the server closes after answering a plain request.
    if (!headers.some(([k]) => k.toLowerCase() === 'upgrade')) socket.end()
  })
}

/** The header lines of a WebSocket upgrade. */
export const UPGRADE_HEADERS: Array<[string, string]> = [
  ['Connection', 'Upgrade'],
  ['Upgrade', 'websocket'],
  ['Sec-WebSocket-Version', '13'],
  ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
]

/** What must never be in an answer: a stack frame, the server's paths, its source files. */
export const INTERNALS = /(^|\s)at\s|\/work\/|node_modules|\.ts:|\.js:/
