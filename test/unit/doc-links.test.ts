/** Every relative link of the README and of docs/ names a file or folder that exists. */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { repoRoot } from '../support/process.js'

function markdownFiles(): string[] {
  const docs = readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(repoRoot, 'docs', f))
  return [join(repoRoot, 'README.md'), ...docs]
}

describe('documentation links', () => {
  it('every relative link points at something in the repository', () => {
    const broken: string[] = []
    for (const file of markdownFiles()) {
      for (const [, target = ''] of readFileSync(file, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target) || target.startsWith('#')) continue
        const path = target.split('#')[0] ?? ''
        if (!existsSync(join(dirname(file), path))) broken.push(`${relative(repoRoot, file)} → ${target}`)
      }
    }
    assert.deepEqual(broken, [])
  })
})
