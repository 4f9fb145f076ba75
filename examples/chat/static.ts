/**
 * The chat's static files: the page from `examples/chat/public/`, and the client SDK's
 * built ES modules from `dist/lib/` under `/wshub/` (only the client and the two
 * envelope modules it imports; nothing else of the server is served).
 */
import { readFile } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'

// This file runs from dist/examples/chat/.
const publicDir = new URL('../../../examples/chat/public/', import.meta.url)
const libDir = new URL('../../lib/', import.meta.url)

const PAGE_FILES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/chat.js': 'chat.js',
  '/chat.css': 'chat.css',
}
const CLIENT_MODULE = /^\/wshub\/(client\/[a-z-]+\.js|protocol\.js|errors\.js)$/

const TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
}

/** An `app.onHttp` handler for the page and the client; false for anything else. */
export async function serveStatic(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false
  const path = new URL(req.url ?? '/', 'http://localhost').pathname
  let file: URL | null = null
  if (PAGE_FILES[path] !== undefined) file = new URL(PAGE_FILES[path], publicDir)
  else {
    const match = CLIENT_MODULE.exec(path)
    if (match !== null) file = new URL(match[1]!, libDir)
  }
  if (file === null) return false
  let body: Buffer
  try {
    body = await readFile(file)
  } catch {
    return false
  }
  const ext = path === '/' ? 'html' : path.slice(path.lastIndexOf('.') + 1)
  res.writeHead(200, { 'content-type': TYPES[ext] ?? 'application/octet-stream', 'content-length': body.length, 'cache-control': 'no-cache' })
  res.end(req.method === 'HEAD' ? undefined : body)
  return true
}
