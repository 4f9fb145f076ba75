import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { formatHostPort, isHost, parseHostPort } from '../../lib/host-port.js'

describe('isHost', () => {
  it('takes IP addresses and RFC 1123 host names', () => {
    for (const host of ['127.0.0.1', '0.0.0.0', '::', 'fe80::1', 'localhost', 'a-b.example.com', 'example.com.']) assert.ok(isHost(host), host)
  })

  it('refuses anything else', () => {
    for (const host of ['', 'not_a_host!', '256.1.1.1', '1.2.3', 'a..b', '-a.example', 'a-.example', 'x'.repeat(64), 'a b']) assert.ok(!isHost(host), host)
  })
})

describe('parseHostPort', () => {
  it('splits host:port, [ipv6]:port and unbracketed IPv6', () => {
    assert.deepEqual(parseHostPort('127.0.0.1:9090'), { host: '127.0.0.1', port: 9090 })
    assert.deepEqual(parseHostPort('localhost:0'), { host: 'localhost', port: 0 })
    assert.deepEqual(parseHostPort('[::1]:9090'), { host: '::1', port: 9090 })
    assert.deepEqual(parseHostPort('::1:9090'), { host: '::1', port: 9090 })
  })

  it('takes a port alone as a port on 127.0.0.1', () => {
    assert.deepEqual(parseHostPort('9090'), { host: '127.0.0.1', port: 9090 })
  })

  it('refuses a bad host or port, saying what it wants', () => {
    for (const value of ['garbage', '127.0.0.1:', '127.0.0.1:65536', '127.0.0.1:-1', '127.0.0.1:1e3', 'bad_host:80', '[example.com]:80', ':80']) {
      assert.throws(() => parseHostPort(value), /must be host:port/, value)
    }
  })
})

describe('formatHostPort', () => {
  it('brackets IPv6 hosts', () => {
    assert.equal(formatHostPort('::1', 80), '[::1]:80')
    assert.equal(formatHostPort('127.0.0.1', 80), '127.0.0.1:80')
  })
})
