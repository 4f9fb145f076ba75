/**
 * The TypeScript examples of the README, of docs/, of the client SDK's README and of the
 * examples' READMEs compile against the real API: each ```ts block becomes a module and
 * tsc checks them all with the project's own settings. A block that opens with a file
 * name (`// server.ts`) is written under that name, so another block of the same page can
 * import it (`import type { App } from './server.js'`). A block may use, without making
 * them, the names a reader's own program has (the `app` made earlier on the page, their
 * `orders` store, a `render` function): those, and only those, are declared for it.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../support/process.js'

const DOCS = [
  'README.md',
  ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`),
  'lib/client/README.md',
  ...readdirSync(join(repoRoot, 'examples')).sort().map((d) => `examples/${d}/README.md`).filter((f) => existsSync(join(repoRoot, f))),
]

/** What a block may use without making it: the reader's own objects, declared by type only. */
const READERS_NAMES: Record<string, string> = {
  app: "declare const app: import('wshub').Application",
  hub: "declare const hub: import('wshub').Application",
  server: "declare const server: import('node:http').Server",
  koa: "declare const koa: import('koa')",
  orders: 'declare const orders: { create(sku: string, qty: number): Promise<string>; list(): Promise<Array<{ id: string }>> }',
  render: 'declare function render(...args: unknown[]): void',
  reloadRoom: 'declare function reloadRoom(room: string): void',
  askForLogin: 'declare function askForLogin(): void',
}

const PATHS = {
  wshub: ['../../lib/index.ts'],
  'wshub/client': ['../../lib/client/index.ts'],
  'wshub/testing': ['../../lib/testing.ts'],
  'wshub/middleware/*': ['../../middleware/*.ts', '../../middleware/*/index.ts'],
  'wshub-request-timing': ['../../examples/third-party-middleware/index.ts'],
}

function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((m) => m[1] ?? '')
}

/** The reader's names a block uses and does not make itself. */
function preludeOf(code: string): string {
  const bare = code.replace(/\/\/.*$/gm, '').replace(/'[^'\n]*'/g, "''")
  return Object.entries(READERS_NAMES)
    .filter(([name]) => new RegExp(`\\b${name}\\b`).test(bare))
    .filter(([name]) => !new RegExp(`\\b(const|let|var|function|class)\\s+${name}\\b|import\\s+${name}\\b|import\\s*\\{[^}]*\\b${name}\\b[^}]*\\}`).test(bare))
    .map(([, declaration]) => `${declaration}\n`)
    .join('')
}

describe('documentation examples', () => {
  it('every ts block of the README, docs/, the client SDK and the examples compiles', () => {
    const dir = join(repoRoot, 'dist', 'doc-snippets')
    rmSync(dir, { recursive: true, force: true })
    const files: string[] = []
    for (const doc of DOCS) {
      const folder = doc.replace(/[/.]/g, '_')
      tsBlocks(readFileSync(join(repoRoot, doc), 'utf8')).forEach((code, i) => {
        const named = /^\/\/ ([\w.-]+\.ts)\n/.exec(code)?.[1]
        const name = `${folder}/${named ?? `block_${i + 1}.ts`}`
        mkdirSync(join(dir, folder), { recursive: true })
        writeFileSync(join(dir, name), preludeOf(code) + code + '\nexport {}\n')
        files.push(name)
      })
    }
    assert.ok(files.length >= 15, `found ${files.length} ts blocks`)
    assert.ok(files.some((f) => f.startsWith('docs_middleware_md/')) && files.some((f) => f.startsWith('lib_client_README_md/')), files.join(', '))
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ extends: '../../tsconfig.json', compilerOptions: { noEmit: true, rootDir: '../..', paths: PATHS }, files, exclude: [] }),
    )
    const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' })
    assert.equal(tsc.status, 0, `tsc over the documentation examples failed:\n${tsc.stdout}${tsc.stderr}`)
  })

  it('declares for a block only the reader names it uses and does not make', () => {
    assert.equal(preludeOf("const app = createApp()\napp.route('x', () => {})"), '')
    assert.equal(preludeOf("app.route('x', async () => orders.list())"), `${READERS_NAMES.app}\n${READERS_NAMES.orders}\n`)
    assert.equal(preludeOf("// server.ts\nimport type { App } from './server.js'"), '')
    assert.equal(preludeOf('import Koa from "koa"\nconst koa = new Koa()'), '')
  })
})
