/**
 * Every relative link of the README, of docs/, of the client SDK's README, of bench/ and
 * of the examples' READMEs names a file or folder that exists, and a link to a heading
 * (`cluster.md#redis-cluster-...`) names a heading that page has.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { repoRoot } from '../support/process.js'

function markdownFiles(): string[] {
  const docs = readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(repoRoot, 'docs', f))
  const examples = readdirSync(join(repoRoot, 'examples')).map((d) => join(repoRoot, 'examples', d, 'README.md')).filter((f) => existsSync(f))
  return [join(repoRoot, 'README.md'), ...docs, join(repoRoot, 'lib/client/README.md'), join(repoRoot, 'bench/README.md'), ...examples]
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens. */
function slug(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-')
}

/** The anchors of a page's headings (outside code blocks); a heading seen again gets -1, -2, ... as on GitHub. */
function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>()
  const anchors = new Set<string>()
  for (const line of readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '').split('\n')) {
    const heading = /^#{1,6} (.*)$/.exec(line)?.[1]
    if (heading === undefined) continue
    const base = slug(heading)
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    anchors.add(n === 0 ? base : `${base}-${n}`)
  }
  return anchors
}

function brokenLinks(files: readonly string[]): string[] {
  const broken: string[] = []
  for (const file of files) {
    for (const [, target = ''] of readFileSync(file, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z]+:/.test(target)) continue
      const [path = '', anchor] = target.split('#')
      const to = path === '' ? file : join(dirname(file), path)
      if (!existsSync(to)) broken.push(`${relative(repoRoot, file)} → ${target}`)
      else if (anchor !== undefined && statSync(to).isFile() && to.endsWith('.md') && !anchorsOf(to).has(anchor)) broken.push(`${relative(repoRoot, file)} → ${target} (no such heading)`)
    }
  }
  return broken
}

describe('documentation links', () => {
  it('every relative link points at something in the repository, and every #anchor at a heading', () => {
    assert.deepEqual(brokenLinks(markdownFiles()), [])
  })

  it('takes anchors as GitHub makes them', () => {
    assert.equal(slug('Typed routes: schemas, typed handlers, typed clients'), 'typed-routes-schemas-typed-handlers-typed-clients')
    assert.equal(slug('Redis Cluster, Redis Sentinel and NATS clusters'), 'redis-cluster-redis-sentinel-and-nats-clusters')
    assert.equal(slug('1. Connecting'), '1-connecting')
    assert.ok(anchorsOf(join(repoRoot, 'docs/cluster.md')).has('running-a-cluster'))
    assert.ok(!anchorsOf(join(repoRoot, 'docs/cluster.md')).has('no-such-heading'))
  })
})
