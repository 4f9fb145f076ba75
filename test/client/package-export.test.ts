import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'

const root = new URL('../../../', import.meta.url)

describe('package.json ./client export', () => {
  it('resolves wshub/client to the built client, with its types beside it', async () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8'))
    const entry = pkg.exports['./client']
    assert.deepEqual(entry, { types: './dist/lib/client/index.d.ts', default: './dist/lib/client/index.js' })
    assert.ok(existsSync(new URL(entry.types, root)), `${entry.types} is built`)
    // Through the package's own name, as an application imports it (a variable: tsc must not resolve it at build time).
    const specifier = 'wshub/client'
    const viaName = await import(specifier)
    const direct = await import(new URL(entry.default, root).href)
    assert.equal(viaName.WshubClient, direct.WshubClient)
    assert.equal(typeof viaName.WshubClient, 'function')
  })
})
