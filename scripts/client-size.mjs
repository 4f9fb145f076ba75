// Measures the browser build of wshub/client: bundled and minified by esbuild (ESM,
// platform browser, `ws` left out: browsers never load it), then gzipped by zlib at
// level 9. Usage: node scripts/client-size.mjs [--json]
import { build } from 'esbuild'
import { gzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'

const entry = fileURLToPath(new URL('../lib/client/index.ts', import.meta.url))

/** Bundles the client for browsers; returns the minified code and its sizes in bytes. */
export async function measureClient() {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['ws'],
    write: false,
    logLevel: 'silent',
  })
  const code = result.outputFiles[0].contents
  return { code: Buffer.from(code).toString(), minified: code.byteLength, gzipped: gzipSync(code, { level: 9 }).byteLength }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { minified, gzipped } = await measureClient()
  if (process.argv.includes('--json')) console.log(JSON.stringify({ minified, gzipped }))
  else console.log(`wshub/client: ${minified} bytes minified, ${gzipped} bytes minified + gzipped`)
}
