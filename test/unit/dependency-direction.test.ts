/**
 * Dependencies in lib/ run one way (docs/README.md, "Layout of the repository"): read from
 * the import statements of the sources (type imports included, since a type import is
 * still something a reader must hold in mind), lib/ has no import cycle, only the wiring
 * and entry files import application.ts, and between lib/ and middleware/ the only way
 * back is the composition root's.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { repoRoot } from '../support/process.js'

/**
 * The files that may import application.ts: the composition root itself, and the entry
 * points that hand an Application to their caller or start one. index.ts re-exports it
 * (the public surface), testing.ts is `wshub/testing` (drives an app's chain without
 * sockets), cli.ts is `npx wshub` (makes and runs one), and define-middleware.ts is the
 * public helper whose one job is to type a `Middleware`, a type application.ts owns
 * because its `setup(app)` hook receives the whole app. Nothing else in lib/ knows the
 * whole app: each part declares the host it uses, and application.ts passes itself.
 */
const MAY_IMPORT_APPLICATION = ['lib/application.ts', 'lib/index.ts', 'lib/testing.ts', 'lib/cli.ts', 'lib/define-middleware.ts']

/**
 * The files of lib/ that may import from middleware/: application.ts composes the router
 * and the default chain into every app (the composition root), index.ts re-exports the
 * router's types (`Handler`, `RouteOptions`, part of the public surface), and
 * builtin-routes.ts registers the built-in message types through `app.route`, whose
 * options and handler types the router defines, as define-routes.ts declares routes with
 * them (types only). The router imports no file of lib/ that
 * imports it back (the test below checks that lib/ and middleware/ without application.ts
 * have no cycle).
 */
const MAY_IMPORT_MIDDLEWARE: Record<string, readonly string[]> = {
  'lib/application.ts': ['middleware/router.ts', 'middleware/index.ts'],
  'lib/index.ts': ['middleware/router.ts'],
  'lib/builtin-routes.ts': ['middleware/router.ts'],
  'lib/define-routes.ts': ['middleware/router.ts'],
}

interface Edge {
  from: string
  to: string
  /** Only types are imported: the import is gone from the JavaScript. */
  typeOnly: boolean
}

function sourcesUnder(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(join(repoRoot, dir))) {
    const path = join(dir, name)
    if (statSync(join(repoRoot, path)).isDirectory()) out.push(...sourcesUnder(path))
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path)
  }
  return out.sort()
}

/** The file a relative specifier names (`./rooms.js` → lib/rooms.ts), or null for a package. */
function resolveSpecifier(from: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null
  const base = join(dirname(from), specifier)
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(join(repoRoot, candidate)) && statSync(join(repoRoot, candidate)).isFile()) return relative(repoRoot, join(repoRoot, candidate))
  }
  throw new Error(`${from}: cannot resolve ${specifier}`)
}

/** Every relative import of a file: `import ... from`, `export ... from`, side-effect imports and `import('...')`. */
function importsOf(file: string): Edge[] {
  // Block comments hold TSDoc examples (`import { createApp } from 'wshub'`): not imports.
  const text = readFileSync(join(repoRoot, file), 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '')
  const edges: Edge[] = []
  const add = (specifier: string, typeOnly: boolean) => {
    const to = resolveSpecifier(file, specifier)
    if (to !== null) edges.push({ from: file, to, typeOnly })
  }
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(type\s+)?([^'";]*?)\s+from\s+['"]([^'"]+)['"]/gm)) {
    const clause = m[2] ?? ''
    // `import { type A, type B } from` is as type-only as `import type { A, B } from`.
    const names = /^\{([\s\S]*)\}$/.exec(clause.trim())?.[1]?.split(',').map((s) => s.trim()).filter((s) => s !== '')
    const allTypes = names !== undefined && names.length > 0 && names.every((name) => name.startsWith('type '))
    add(m[3]!, m[1] !== undefined || allTypes)
  }
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) add(m[1]!, false)
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) add(m[1]!, false)
  return edges
}

/** The cycles of a graph, each as its path (the first file repeated at the end); one per strongly connected component. */
function cyclesOf(files: readonly string[], edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>()
  for (const file of files) next.set(file, [])
  for (const edge of edges) if (next.has(edge.from) && next.has(edge.to)) next.get(edge.from)!.push(edge.to)
  // Tarjan's strongly connected components; a component of more than one file, or a file importing itself, holds a cycle.
  let index = 0
  const indexOf = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const cycles: string[][] = []
  const visit = (v: string) => {
    indexOf.set(v, index)
    low.set(v, index++)
    stack.push(v)
    onStack.add(v)
    for (const w of next.get(v)!) {
      if (!indexOf.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, indexOf.get(w)!))
    }
    if (low.get(v) !== indexOf.get(v)) return
    const component: string[] = []
    let w: string
    do {
      w = stack.pop()!
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1 || next.get(v)!.includes(v)) cycles.push(pathWithin(new Set(component), next, v))
  }
  for (const file of files) if (!indexOf.has(file)) visit(file)
  return cycles
}

/** One cycle through `start` inside a strongly connected component (breadth-first, so the shortest). */
function pathWithin(component: Set<string>, next: Map<string, string[]>, start: string): string[] {
  const previous = new Map<string, string>()
  const queue = [start]
  while (queue.length > 0) {
    const v = queue.shift()!
    for (const w of next.get(v)!) {
      if (!component.has(w)) continue
      if (w === start) {
        const path = [start]
        for (let at = v; at !== start; at = previous.get(at)!) path.unshift(at)
        path.unshift(start)
        return path
      }
      if (!previous.has(w)) {
        previous.set(w, v)
        queue.push(w)
      }
    }
  }
  return [start]
}

const libFiles = sourcesUnder('lib')
const middlewareFiles = sourcesUnder('middleware')
const edges = [...libFiles, ...middlewareFiles].flatMap(importsOf)
const show = (cycles: string[][]) => cycles.map((cycle) => cycle.join(' → '))

describe('dependency direction', () => {
  it('reads the imports it checks (type, multi-line, re-export and dynamic imports included)', () => {
    const has = (from: string, to: string, typeOnly: boolean) => edges.some((e) => e.from === from && e.to === to && e.typeOnly === typeOnly)
    assert.ok(has('lib/index.ts', 'lib/application.ts', false), 'export ... from')
    assert.ok(has('lib/index.ts', 'middleware/router.ts', true), 'export type ... from')
    assert.ok(has('lib/index.ts', 'lib/events.ts', true), 'export type { ...several lines... } from')
    assert.ok(has('lib/rooms.ts', 'lib/events.ts', false), 'import { value, type T } from')
    assert.ok(has('lib/backends.ts', 'lib/bus/redis.ts', false), "import('./bus/redis.js')")
    assert.ok(has('lib/application.ts', 'middleware/index.ts', false))
    assert.ok(libFiles.length > 40 && middlewareFiles.length > 5, `${libFiles.length} files in lib/, ${middlewareFiles.length} in middleware/`)
  })

  it('finds a cycle where there is one', () => {
    const made = [
      { from: 'a', to: 'b', typeOnly: false },
      { from: 'b', to: 'c', typeOnly: true },
      { from: 'c', to: 'a', typeOnly: false },
      { from: 'c', to: 'd', typeOnly: false },
    ]
    assert.deepEqual(cyclesOf(['a', 'b', 'c', 'd'], made), [['a', 'b', 'c', 'a']])
    assert.deepEqual(cyclesOf(['a', 'b', 'c', 'd'], made.slice(1)), [])
  })

  it('lib/ has no import cycle, type imports included', () => {
    assert.deepEqual(show(cyclesOf(libFiles, edges)), [])
  })

  it('only the wiring and entry files import application.ts', () => {
    const importers = [...new Set(edges.filter((e) => e.to === 'lib/application.ts' && e.from.startsWith('lib/')).map((e) => e.from))].sort()
    assert.deepEqual(importers.filter((file) => !MAY_IMPORT_APPLICATION.includes(file)), [])
  })

  it('lib/ imports from middleware/ only where the composition root and the public surface need it', () => {
    const wrong = edges
      .filter((e) => e.from.startsWith('lib/') && e.to.startsWith('middleware/'))
      .filter((e) => !(MAY_IMPORT_MIDDLEWARE[e.from] ?? []).includes(e.to))
      .map((e) => `${e.from} → ${e.to}`)
    assert.deepEqual(wrong, [])
  })

  it('middleware/ imports application.ts for types only (its setup(app) hook): at run time modules load one way', () => {
    const wrong = edges.filter((e) => e.from.startsWith('middleware/') && e.to === 'lib/application.ts' && !e.typeOnly).map((e) => e.from)
    assert.deepEqual(wrong, [])
  })

  it('lib/ and middleware/ together have no cycle but through the composition root', () => {
    const files = [...libFiles, ...middlewareFiles].filter((file) => file !== 'lib/application.ts')
    assert.deepEqual(show(cyclesOf(files, edges)), [])
  })

  it('the JavaScript of lib/ and middleware/ has no cycle at all (type imports are erased)', () => {
    assert.deepEqual(show(cyclesOf([...libFiles, ...middlewareFiles], edges.filter((e) => !e.typeOnly))), [])
  })
})
