import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { openBackends } from '../../lib/backends.js'
import { resolveConfig } from '../../lib/config.js'
import { MemoryBus } from '../../lib/bus/memory.js'
import { MemoryState } from '../../lib/cluster/memory.js'

const distLib = resolve(dirname(fileURLToPath(import.meta.url)), '../../lib')

/** Every module reachable from `entry` through static imports (not `import()`), and the packages they name. */
function staticGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const visit = (file: string) => {
    if (files.has(file)) return
    files.add(file)
    const source = readFileSync(file, 'utf8')
    for (const [, specifier] of source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)) {
      if (specifier!.startsWith('.')) visit(resolve(dirname(file), specifier!))
      else packages.add(specifier!)
    }
  }
  visit(entry)
  return { files, packages }
}

describe('openBackends', () => {
  it('gives a memory node the in-process bus and state', async () => {
    const backends = await openBackends(resolveConfig({ cluster: { bus: 'memory' } }), pino({ level: 'silent' }))
    assert.ok(backends.bus instanceof MemoryBus)
    assert.ok(backends.state instanceof MemoryState)
  })

  it('keeps ioredis and the NATS client out of what a memory node loads', () => {
    const { files, packages } = staticGraph(resolve(distLib, 'index.js'))
    assert.ok(files.has(resolve(distLib, 'backends.js')), 'the graph reaches backends.js')
    const engines = [...packages].filter((name) => name === 'ioredis' || name.startsWith('@nats-io/'))
    assert.deepEqual(engines, [])
  })
})
