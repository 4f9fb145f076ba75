/**
 * Opens a WebSocket that the server is expected to refuse, and resolves to the HTTP
 * status and JSON body of the refusal (or rejects if it upgraded).
 */
import WebSocket from 'ws'

export interface Refusal {
  status: number
  body: { code?: number; message: string }
}

export function refusal(url: string, options: WebSocket.ClientOptions & { protocols?: string[] } = {}): Promise<Refusal> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, options.protocols ?? [], options)
    socket.on('unexpected-response', (_req, res) => {
      let text = ''
      res.on('data', (chunk: Buffer) => (text += chunk.toString()))
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) })
        } catch {
          reject(new Error(`refusal body is not JSON: ${text}`))
        }
      })
    })
    socket.on('open', () => {
      socket.terminate()
      reject(new Error('the server upgraded a handshake it should have refused'))
    })
    socket.on('error', reject)
  })
}
