/**
 * JWTs for tests: signed with jsonwebtoken, with keys generated here (node:crypto), and
 * the forged kinds a client might try (`alg: none`, wrong keys, bad signatures).
 */
import { createHmac, generateKeyPairSync, type KeyObject } from 'node:crypto'
import jwt from 'jsonwebtoken'

export const SECRET = 'test-secret-of-at-least-32-bytes!!'

/** Seconds since the epoch, as JWT times are. */
export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}

export function hs256(claims: Record<string, unknown>, secret: string = SECRET, algorithm: jwt.Algorithm = 'HS256'): string {
  return jwt.sign(claims, secret, { algorithm, noTimestamp: true })
}

export interface KeyPair {
  privateKey: KeyObject
  publicPem: string
}

export function rsaKeys(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() }
}

export function ecKeys(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { privateKey, publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() }
}

export function signWith(claims: Record<string, unknown>, keys: KeyPair, algorithm: 'RS256' | 'ES256'): string {
  return jwt.sign(claims, keys.privateKey, { algorithm, noTimestamp: true })
}

/** An unsigned token (`alg: none`). */
export function unsigned(claims: Record<string, unknown>): string {
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`
}

function part(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url')
}

/** An HS256 token made by hand with any key, e.g. a public key's PEM (the HS/RS confusion attack). */
export function forgedHs256(claims: Record<string, unknown>, key: string): string {
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part(claims)}`
  return `${body}.${createHmac('sha256', key).update(body).digest('base64url')}`
}

/** The same token with a character inside its signature changed. */
export function tampered(token: string): string {
  const at = token.lastIndexOf('.') + 5
  const swapped = token[at] === 'A' ? 'B' : 'A'
  return token.slice(0, at) + swapped + token.slice(at + 1)
}
