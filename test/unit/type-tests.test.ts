/**
 * The type tests (test/types/*.ts): tsc over them with the project's settings must pass,
 * so every check in them holds and every `@ts-expect-error` line is an error (an unused
 * directive fails tsc). The build compiles them too; this test also proves the harness
 * can fail: a file whose expected error does not happen, and one with a wrong type, are
 * refused.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../support/process.js'

const typesDir = join(repoRoot, 'test', 'types')
const tscBin = join(repoRoot, 'node_modules/typescript/bin/tsc')

function tsc(dir: string, files: string[]): { status: number | null; output: string } {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({ extends: join(repoRoot, 'tsconfig.json'), compilerOptions: { noEmit: true, rootDir: repoRoot, listFiles: true }, files, include: [] }),
  )
  const run = spawnSync(process.execPath, [tscBin, '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' })
  return { status: run.status, output: run.stdout + run.stderr }
}

function scratch(name: string): string {
  const dir = join(repoRoot, 'dist', name)
  rmSync(dir, { recursive: true, force: true })
  mkdirSync(dir, { recursive: true })
  return dir
}

describe('type tests', () => {
  it('test/types/*.ts compile, with every @ts-expect-error meeting its error', () => {
    const files = readdirSync(typesDir).filter((f) => f.endsWith('.ts')).map((f) => join(typesDir, f))
    assert.ok(files.length >= 2, `found ${files.length} type test files`)
    const { status, output } = tsc(scratch('type-tests'), files)
    assert.equal(status, 0, `tsc over the type tests failed:\n${output.split('\n').filter((l) => !l.startsWith('/')).join('\n')}`)
    for (const file of files) assert.ok(output.includes(file), `${file} was compiled`)
  })

  it('fail where an expected error does not happen, or a type is wrong', () => {
    const dir = scratch('type-tests-canary')
    const unused = join(dir, 'unused-expect-error.ts')
    writeFileSync(unused, "import type { Context } from 'wshub'\nexport function f(ctx: Context): void {\n  // @ts-expect-error\n  void ctx.type\n}\n")
    const wrong = join(dir, 'wrong-type.ts')
    writeFileSync(wrong, "import { createApp } from 'wshub'\nimport { z } from 'zod'\ncreateApp().route('n', { schema: z.object({ n: z.number() }) }, (ctx) => { const s: string = ctx.data.n; void s })\n")
    const first = tsc(dir, [unused])
    assert.notEqual(first.status, 0)
    assert.match(first.output, /TS2578: Unused '@ts-expect-error' directive/)
    const second = tsc(dir, [wrong])
    assert.notEqual(second.status, 0)
    assert.match(second.output, /TS2322: Type 'number' is not assignable to type 'string'/)
  })
})
