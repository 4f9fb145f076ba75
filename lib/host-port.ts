/**
 * Listen addresses in the configuration: `http.host` (an IP address or a host name) and
 * `http.admin_address` (host:port), checked at start-up so that a typo stops the node
 * with the key's name instead of failing later inside `listen()`.
 */
import { isIP } from 'node:net'

const LABEL = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/

/** True for an IP address, or a host name of letters, digits and hyphens (RFC 1123). */
export function isHost(value: string): boolean {
  if (isIP(value) !== 0) return true
  if (value.length === 0 || value.length > 253) return false
  const labels = (value.endsWith('.') ? value.slice(0, -1) : value).split('.')
  // A name of digits and dots only is an IPv4 address or nothing (256.1.1.1, 1.2.3).
  if (labels.every((label) => /^\d+$/.test(label))) return false
  return labels.every((label) => LABEL.test(label))
}

export const HOST_PORT_HELP = 'must be host:port (127.0.0.1:9090, [::1]:9090), a port alone (on 127.0.0.1), or empty for none'

/**
 * Splits `http.admin_address`: `host:port`, `[ipv6]:port`, or a port alone (the host is
 * then 127.0.0.1). Throws on anything else.
 *
 * @example
 * ```ts
 * parseHostPort('[::1]:9090')   // { host: '::1', port: 9090 }
 * ```
 */
export function parseHostPort(value: string): { host: string; port: number } {
  let host = '127.0.0.1'
  let port = value
  const bracketed = /^\[([^\]]*)\]:([^:]*)$/.exec(value)
  if (bracketed !== null) {
    host = bracketed[1]!
    port = bracketed[2]!
    if (isIP(host) !== 6) throw new Error(HOST_PORT_HELP)
  } else {
    const cut = value.lastIndexOf(':')
    if (cut !== -1) {
      host = value.slice(0, cut)
      port = value.slice(cut + 1)
    }
  }
  if (!isHost(host) || !/^\d{1,5}$/.test(port) || Number(port) > 65535) throw new Error(HOST_PORT_HELP)
  return { host, port: Number(port) }
}

/** `host:port` as a person writes it: IPv6 hosts in brackets. */
export function formatHostPort(host: string, port: number): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`
}
