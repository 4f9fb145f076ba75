/**
 * Live reconfiguration. A new configuration is validated whole; if any key is bad the
 * whole of it is refused, with the key named, and the running one stays. Otherwise the
 * keys that the node reads at start (listeners, WebSocket framing, the cluster, the
 * heartbeat timer, the log format) keep their running values and are named in a
 * warning, and everything else takes effect without dropping a connection: the log
 * level here, rate limits and auth keys in their middleware (which listen to `reload`),
 * room defaults and connection limits wherever `app.config` is read.
 *
 * The CLI reloads on SIGHUP and, where `config.watch` is on, when the file changes.
 */
import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname, resolve } from 'node:path'
import type { Logger } from 'pino'
import { loadConfig, resolveConfig, type ConfigInput, type WshubConfig } from './config.js'
import type { AppEvents, EventSink } from './events.js'

/** What a reload changed: keys now in force, and changed keys kept as they were until a restart. */
export interface ReloadResult {
  applied: string[]
  restartRequired: string[]
}

/** What a reload changes (`app.reload` hands it the app itself): the config in force, the log level, and who is told. */
export interface ReloadTarget extends EventSink<Pick<AppEvents, 'reload'>> {
  config: WshubConfig
  readonly log: Logger
  setLogLevel(level: string): void
}

/** What reloading from a file uses of the app: its `reload`, its log, and the `reload` event (to follow `config.watch`). */
export interface Reloadable {
  readonly config: WshubConfig
  readonly log: Logger
  reload(config: WshubConfig): ReloadResult
  on(event: 'reload', listener: (config: WshubConfig, previous: WshubConfig) => void): unknown
  off(event: 'reload', listener: (config: WshubConfig, previous: WshubConfig) => void): unknown
}

/** Keys, or key prefixes ending in `.`, that only a restart changes. */
const RESTART_REQUIRED = ['http.', 'ws.path', 'ws.max_payload', 'ws.max_buffered_bytes', 'ws.compression.', 'heartbeat.', 'cluster.', 'log.format']

/** True for a key whose new value needs a restart. */
export function needsRestart(key: string): boolean {
  return RESTART_REQUIRED.some((rule) => (rule.endsWith('.') ? key.startsWith(rule) : key === rule))
}

type Tree = Record<string, unknown>

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Every leaf key (`rate_limit.per_connection.rate`) and its value; lists are leaves. */
function leaves(tree: Tree, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [key, value] of Object.entries(tree)) {
    if (isTree(value)) leaves(value, `${prefix}${key}.`, out)
    else out.set(prefix + key, value)
  }
  return out
}

function setLeaf(tree: Tree, key: string, value: unknown): void {
  const path = key.split('.')
  let node = tree
  for (const part of path.slice(0, -1)) node = node[part] as Tree
  node[path[path.length - 1]!] = value
}

function same(a: unknown, b: unknown): boolean {
  return a === b || (Array.isArray(a) && Array.isArray(b) && JSON.stringify(a) === JSON.stringify(b))
}

/**
 * Validates and puts a configuration in force (what `app.reload` does). Throws a
 * `ConfigError` naming the bad key, logged at error, and then nothing has changed.
 */
export function applyReload(app: ReloadTarget, input: WshubConfig): ReloadResult {
  let next: WshubConfig
  try {
    next = resolveConfig(input as ConfigInput)
  } catch (err) {
    app.log.error({ err: (err as Error).message }, 'config reload refused; the running configuration stays')
    throw err
  }
  const previous = app.config
  const before = leaves(previous as unknown as Tree)
  const applied: string[] = []
  const restartRequired: string[] = []
  for (const [key, value] of leaves(next as unknown as Tree)) {
    const old = before.get(key)
    if (same(old, value)) continue
    if (needsRestart(key)) {
      restartRequired.push(key)
      setLeaf(next as unknown as Tree, key, old)
    } else applied.push(key)
  }
  app.config = next
  // Only a changed level: an app given its own logger keeps that logger's level otherwise.
  if (applied.includes('log.level')) app.setLogLevel(next.log.level)
  if (restartRequired.length > 0) app.log.warn({ keys: restartRequired }, 'config keys changed that need a restart; they keep their running values')
  app.log.info({ applied }, 'config reloaded')
  app.emit('reload', next, previous)
  return { applied, restartRequired }
}

/**
 * Reloads the file (and the `WSHUB_*` environment); logs and returns null when refused.
 *
 * @example
 * ```ts
 * process.on('SIGUSR2', () => reloadFromFile(app, 'wshub.yaml'))
 * ```
 */
export function reloadFromFile(app: Reloadable, file: string | undefined): ReloadResult | null {
  let config: WshubConfig
  try {
    config = loadConfig(file)
  } catch (err) {
    app.log.error({ err: (err as Error).message, file }, 'config reload refused; the running configuration stays')
    return null
  }
  try {
    return app.reload(config)
  } catch {
    return null // applyReload logged it
  }
}

// Editors save in bursts (truncate, write, rename): one reload per burst.
const SETTLE_MS = 100

/** Reloads when the file changes. Watches its folder, so a file replaced by rename is still seen. */
export function watchConfigFile(app: Reloadable, file: string): FSWatcher {
  const path = resolve(file)
  const name = basename(path)
  let timer: NodeJS.Timeout | null = null
  const watcher = watch(dirname(path), (_event, changed) => {
    if (changed !== null && changed.toString() !== name) return
    if (timer !== null) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = null
      app.log.info({ file }, 'config file changed: reloading')
      reloadFromFile(app, file)
    }, SETTLE_MS)
  })
  watcher.on('error', (err) => app.log.warn({ err: err.message, file }, 'config file watch failed; SIGHUP still reloads'))
  watcher.unref()
  return watcher
}

/**
 * Reloads on SIGHUP, and on file changes while `config.watch` is on (a reload may turn
 * the watch on or off). Returns a function that removes both.
 *
 * @example
 * ```ts
 * const stopReloading = installReload(app, 'wshub.yaml')
 * ```
 */
export function installReload(app: Reloadable, file: string | undefined): () => void {
  let watcher: FSWatcher | null = null
  const syncWatch = (config: WshubConfig) => {
    if (file === undefined) return
    if (config.config.watch && watcher === null) watcher = watchConfigFile(app, file)
    else if (!config.config.watch && watcher !== null) {
      watcher.close()
      watcher = null
    }
  }
  const onSignal = () => {
    app.log.info({ file }, 'SIGHUP: reloading the configuration')
    reloadFromFile(app, file)
  }
  process.on('SIGHUP', onSignal)
  app.on('reload', syncWatch)
  syncWatch(app.config)
  return () => {
    process.off('SIGHUP', onSignal)
    app.off('reload', syncWatch)
    watcher?.close()
  }
}
