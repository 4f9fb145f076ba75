/**
 * The TypeScript examples of the README and the getting-started guide (whole programs, not
 * fragments) compile against the real API: each ```ts block becomes a module (with `app`
 * declared where a block uses one it did not make) and tsc checks them all with the
 * project's own settings.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../support/process.js'

const DOCS = ['README.md', 'docs/getting-started.md']
const APP_PRELUDE = "import type { Application } from 'wshub'\ndeclare const app: Application\n"

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '')
}

describe('documentation examples', () => {
  it('every ts block of the README and getting-started compiles', () => {
    const dir = join(repoRoot, 'dist', 'doc-snippets')
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    const files: string[] = []
    for (const doc of DOCS) {
      tsBlocks(readFileSync(join(repoRoot, doc), 'utf8')).forEach((code, i) => {
        const usesUndeclaredApp = /\bapp\./.test(code) && !/\b(const|let) app\b/.test(code)
        const name = `${doc.replace(/[/.]/g, '_')}_${i + 1}.ts`
        writeFileSync(join(dir, name), (usesUndeclaredApp ? APP_PRELUDE : '') + code + '\nexport {}\n')
        files.push(name)
      })
    }
    assert.ok(files.length >= 4, `found ${files.length} ts blocks`)
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: { noEmit: true, rootDir: '../..', paths: { wshub: ['../../lib/index.ts'], 'wshub/client': ['../../lib/client/index.ts'], 'wshub/middleware/*': ['../../middleware/*.ts', '../../middleware/*/index.ts'] } },
        files, exclude: [],
      }),
    )
    const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' })
    assert.equal(tsc.status, 0, `tsc over the documentation examples failed:\n${tsc.stdout}${tsc.stderr}`)
  })
})
