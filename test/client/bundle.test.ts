/**
 * The client as browsers get it: bundled by esbuild for the browser platform (it fails
 * on any Node built-in), free of server code, small; and the built ES modules the chat
 * page loads import nothing a browser cannot resolve.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { build } from 'esbuild'
import { gzipSync } from 'node:zlib'

const root = new URL('../../../', import.meta.url)

describe('wshub/client browser bundle', () => {
  it('bundles for browsers with nothing but the client and the shared envelope code', async () => {
    const result = await build({
      entryPoints: [new URL('lib/client/index.ts', root).pathname],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      external: ['ws'],
      write: false,
      metafile: true,
      logLevel: 'silent',
    })
    const inputs = Object.keys(result.metafile.inputs).sort()
    assert.deepEqual(inputs.filter((path) => !path.startsWith('lib/client/')), ['lib/errors.ts', 'lib/protocol.ts'])
  })

  it('stays under 6 KiB minified and gzipped', async () => {
    const result = await build({
      entryPoints: [new URL('lib/client/index.ts', root).pathname],
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      external: ['ws'],
      write: false,
      logLevel: 'silent',
    })
    const gzipped = gzipSync(result.outputFiles[0]!.contents, { level: 9 }).byteLength
    assert.ok(gzipped < 6 * 1024, `${gzipped} bytes`)
  })
})

describe('wshub/client built modules', () => {
  it('import only relative paths, so a browser loads them as they are', () => {
    const dir = new URL('dist/lib/client/', root)
    const files = readdirSync(dir).filter((name) => name.endsWith('.js'))
    assert.ok(files.includes('index.js'))
    for (const name of files) {
      // Comments (TSDoc examples) may show imports; only code counts.
      const code = readFileSync(new URL(name, dir), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
      for (const [, specifier] of code.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g)) {
        assert.match(specifier!, /^\.\.?\//, `${name} imports ${specifier}`)
      }
      assert.doesNotMatch(code, /import\(\s*['"](?!\.)/, `${name} has a static bare dynamic import`)
    }
  })
})
