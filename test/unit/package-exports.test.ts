/** Every middleware is its own import path of the package, whether it is one file or a folder. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../support/process.js'

const FACTORY: Record<string, string> = { auth: 'auth', dedup: 'dedup', metrics: 'metrics', 'rate-limit': 'rateLimit', trace: 'trace', router: 'Router' }

describe('package exports', () => {
  const names = readdirSync(join(repoRoot, 'middleware'), { withFileTypes: true })
    .map((e) => (e.isDirectory() ? e.name : e.name.replace(/\.ts$/, '')))
    .filter((name) => name !== 'index')

  it('lists each middleware of middleware/ once, as a file or a folder, never both', () => {
    assert.deepEqual([...names].sort(), Object.keys(FACTORY).sort())
  })

  for (const name of Object.keys(FACTORY)) {
    it(`wshub/middleware/${name} exports ${FACTORY[name]}`, async () => {
      const mod = (await import(`wshub/middleware/${name}`)) as Record<string, unknown>
      assert.equal(typeof mod[FACTORY[name] ?? ''], 'function')
    })
  }

  it('wshub, wshub/middleware, wshub/client and wshub/testing resolve', async () => {
    assert.equal(typeof ((await import('wshub')) as Record<string, unknown>).createApp, 'function')
    assert.equal(typeof ((await import('wshub/middleware')) as Record<string, unknown>).defaultChain, 'function')
    assert.equal(typeof ((await import('wshub/client')) as Record<string, unknown>).WshubClient, 'function')
    assert.equal(typeof ((await import('wshub/testing')) as Record<string, unknown>).testHarness, 'function')
  })
})
