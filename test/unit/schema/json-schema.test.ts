import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { repoRoot } from '../../support/process.js'
import { compileSchema } from '../../../lib/schema/compile.js'

/** Runs a module in a fresh node and answers whether ajv was loaded by the end. */
function ajvLoadedAfter(body: string): boolean {
  const code = `
    import { createRequire } from 'node:module'
    import { createApp } from 'wshub'
    const app = createApp({}, { defaults: false, httpApi: false })
    ${body}
    const cache = createRequire(import.meta.url).cache
    console.log(JSON.stringify(Object.keys(cache).some((path) => /[\\\\/]node_modules[\\\\/]ajv[\\\\/]/.test(path))))
  `
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: repoRoot, encoding: 'utf8' })
  assert.equal(run.status, 0, run.stderr)
  return JSON.parse(run.stdout.trim()) as boolean
}

describe('JSON Schema routes', () => {
  it('leave ajv unloaded on a node that has none (the built-ins and Standard Schema routes included)', () => {
    const body = `app.route('typed', { schema: { '~standard': { version: 1, vendor: 'x', validate: (value) => ({ value }) } } }, () => {})`
    assert.equal(ajvLoadedAfter(body), false)
  })

  it('load ajv once the first one is registered', () => {
    assert.equal(ajvLoadedAfter(`app.route('json', { schema: { type: 'object' } }, () => {})`), true)
  })

  it('take a schema with an $id again when it is the same (a second app in the process, a route registered again)', () => {
    const make = () => ({ $id: 'test-order', type: 'object', required: ['n'], properties: { n: { type: 'number' } } })
    const first = compileSchema(make())
    const second = compileSchema(make())
    assert.equal(first({ data: { n: 1 } }), null)
    assert.deepEqual(second({ data: {} }), [{ path: ['n'], message: 'is required' }])
  })

  it('refuse a different schema under an $id already taken, naming the $id', () => {
    compileSchema({ $id: 'test-taken', type: 'object' })
    assert.throws(() => compileSchema({ $id: 'test-taken', type: 'array' }), /^TypeError: schema: \$id "test-taken" names another JSON Schema/)
  })
})
