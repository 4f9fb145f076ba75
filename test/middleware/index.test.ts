import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { resolveConfig } from '../../lib/config.js'
import { defaultChain } from '../../middleware/index.js'

const distMiddleware = resolve(dirname(fileURLToPath(import.meta.url)), '../../middleware')

/** The packages a built module loads, following its relative imports. */
function packagesLoadedBy(file: string, seen = new Set<string>(), packages = new Set<string>()): Set<string> {
  if (seen.has(file)) return packages
  seen.add(file)
  const source = readFileSync(file, 'utf8')
  for (const match of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
    const spec = match[1]!
    if (spec.startsWith('.')) packagesLoadedBy(resolve(dirname(file), spec), seen, packages)
    else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!)
  }
  return packages
}

describe('defaultChain', () => {
  it('is trace, metrics, auth, rate-limit, dedup, in that order', () => {
    assert.deepEqual(defaultChain(resolveConfig()).map((m) => m.name), ['trace', 'metrics', 'auth', 'rateLimit', 'dedup'])
  })

  it('leaves out what auth.enabled, rate_limit.enabled and dedup.enabled turn off', () => {
    const config = resolveConfig({ auth: { enabled: false }, rate_limit: { enabled: false }, dedup: { enabled: false } })
    assert.deepEqual(defaultChain(config).map((m) => m.name), ['trace', 'metrics'])
  })
})

describe('middleware imports', () => {
  const heavy = ['jsonwebtoken', 'prom-client', '@opentelemetry/api']
  const expected: Record<string, string[]> = {
    'auth/index.js': ['jsonwebtoken'],
    'metrics/index.js': ['prom-client'],
    'trace.js': ['@opentelemetry/api'],
    'rate-limit.js': [],
    'dedup/index.js': [],
  }
  for (const [file, own] of Object.entries(expected)) {
    it(`${file} loads ${own.length === 0 ? 'none' : own.join(', ')} of ${heavy.join(', ')}`, () => {
      const loaded = packagesLoadedBy(resolve(distMiddleware, file))
      assert.deepEqual(heavy.filter((p) => loaded.has(p)), own)
    })
  }
})
