/**
 * Helpers for the client SDK's tests: waiting for a client event, and a WebSocket that
 * behaves like a browser's (no pings visible, no headers), built on `ws`.
 */
import WebSocket from 'ws'
import type { WshubClient } from '../../lib/client/index.js'
import type { WebSocketLike } from '../../lib/client/index.js'

/** Resolves with the first argument of the next `name` event that matches. */
export function nextEvent<T = any>(client: WshubClient, name: string, match: (arg: T) => boolean = () => true, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off(name, listener)
      reject(new Error(`no ${name} event within ${timeoutMs} ms`))
    }, timeoutMs)
    function listener(arg: T): void {
      if (!match(arg)) return
      clearTimeout(timer)
      client.off(name, listener)
      resolve(arg)
    }
    client.on(name, listener)
  })
}

/** Records every `name` event's first argument. */
export function record<T = any>(client: WshubClient, name: string): T[] {
  const seen: T[] = []
  client.on(name, (arg: T) => seen.push(arg))
  return seen
}

/** Resolves once `done()` holds, polling; rejects after `timeoutMs`. */
export async function until(done: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`${what} not reached within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

/** A gate: `wait()` blocks until `open()`. */
export function gate(): { wait(): Promise<void>; open(): void; close(): void } {
  let opened = true
  let release: () => void = () => {}
  let promise = Promise.resolve()
  return {
    wait: () => (opened ? Promise.resolve() : promise),
    open() {
      opened = true
      release()
    },
    close() {
      opened = false
      promise = new Promise((r) => (release = r))
    },
  }
}

/** A browser-like WebSocket over `ws`: only the browser API, so pings are invisible and headers cannot be set. */
export class BrowserLikeWebSocket implements WebSocketLike {
  private readonly ws: WebSocket
  constructor(url: string, protocols?: string | string[]) {
    this.ws = new WebSocket(url, protocols)
  }
  get readyState(): number {
    return this.ws.readyState
  }
  get protocol(): string {
    return this.ws.protocol
  }
  set onopen(fn: WebSocketLike['onopen']) {
    this.ws.onopen = fn as never
  }
  set onmessage(fn: WebSocketLike['onmessage']) {
    this.ws.onmessage = fn as never
  }
  set onclose(fn: WebSocketLike['onclose']) {
    this.ws.onclose = fn as never
  }
  set onerror(fn: WebSocketLike['onerror']) {
    this.ws.onerror = fn as never
  }
  get onopen(): WebSocketLike['onopen'] {
    return this.ws.onopen as never
  }
  get onmessage(): WebSocketLike['onmessage'] {
    return this.ws.onmessage as never
  }
  get onclose(): WebSocketLike['onclose'] {
    return this.ws.onclose as never
  }
  get onerror(): WebSocketLike['onerror'] {
    return this.ws.onerror as never
  }
  send(data: string): void {
    this.ws.send(data)
  }
  close(code?: number, reason?: string): void {
    this.ws.close(code, reason)
  }
}
