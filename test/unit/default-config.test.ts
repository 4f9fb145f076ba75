import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import yaml from 'js-yaml'
import { describeConfig, loadConfig, resolveConfig } from '../../lib/config.js'
import { repoRoot } from '../support/process.js'

const file = `${repoRoot}/configs/default.yaml`

function lookup(tree: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], tree)
}

describe('configs/default.yaml', () => {
  it('documents every key of the schema with its default', () => {
    const tree = yaml.load(readFileSync(file, 'utf8'))
    for (const row of describeConfig()) {
      assert.deepEqual(lookup(tree, row.key), row.default, `${row.key} in configs/default.yaml (run npm run config:defaults)`)
    }
  })

  it('loads to exactly the built-in defaults', () => {
    assert.deepEqual(loadConfig(file), resolveConfig({}))
  })
})
