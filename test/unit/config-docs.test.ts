import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import yaml from 'js-yaml'
import { describeConfig, loadConfig, resolveConfig } from '../../lib/config.js'
import { repoRoot } from '../support/process.js'

const defaultYaml = `${repoRoot}/configs/default.yaml`
const configurationMd = `${repoRoot}/docs/configuration.md`
const STALE = 'is out of date with lib/config.ts: run npm run config:docs'

interface ConfigDocs {
  renderDefaultYaml(): string
  renderConfigurationMarkdown(): string
}
const render = (): Promise<ConfigDocs> => import(pathToFileURL(`${repoRoot}/scripts/config-docs.mjs`).href)

function lookup(tree: unknown, key: string): unknown {
  return key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], tree)
}

describe('configs/default.yaml', () => {
  it('documents every key of the schema with its default', () => {
    const tree = yaml.load(readFileSync(defaultYaml, 'utf8'))
    for (const row of describeConfig()) {
      assert.deepEqual(lookup(tree, row.key), row.default, `${row.key} in configs/default.yaml (run npm run config:docs)`)
    }
  })

  it('loads to exactly the built-in defaults', () => {
    assert.deepEqual(loadConfig(defaultYaml), resolveConfig({}))
  })

  it('is what the schema generates, doc strings included', async () => {
    assert.equal(readFileSync(defaultYaml, 'utf8'), (await render()).renderDefaultYaml(), `configs/default.yaml ${STALE}`)
  })
})

describe('docs/configuration.md', () => {
  it('is what the schema generates', async () => {
    assert.equal(readFileSync(configurationMd, 'utf8'), (await render()).renderConfigurationMarkdown(), `docs/configuration.md ${STALE}`)
  })

  it('has a row for every key, with its env var and default', () => {
    const text = readFileSync(configurationMd, 'utf8')
    for (const row of describeConfig()) {
      const line = text.split('\n').find((l) => l.startsWith(`| \`${row.key}\` |`))
      assert.ok(line, `no row for ${row.key}`)
      assert.ok(line.includes(`\`${row.env}\``), `${row.key}'s row names ${row.env}`)
    }
  })
})
