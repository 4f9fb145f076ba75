import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { createApp, type Application } from '../../lib/application.js'
import { ConfigError, resolveConfig, type ConfigInput, type WshubConfig } from '../../lib/config.js'
import { applyReload, needsRestart, reloadFromFile, type ReloadTarget } from '../../lib/reload.js'
import type { AppEvents } from '../../lib/events.js'
import { EventEmitter } from 'node:events'

/** An app (not listening) whose log lines are kept. */
function appWithLog(config: ConfigInput = {}): { app: Application; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = []
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(JSON.parse(chunk.toString()))
      done()
    },
  })
  const app = createApp(config, { logger: pino({ level: 'info' }, sink) })
  return { app, lines }
}

function changed(app: Application, edit: (c: WshubConfig) => void): WshubConfig {
  const next = structuredClone(app.config)
  edit(next)
  return next
}

describe('needsRestart', () => {
  it('is true for listener, framing, heartbeat, cluster and log format keys', () => {
    for (const key of ['http.port', 'http.admin_address', 'ws.path', 'ws.max_payload', 'ws.max_buffered_bytes', 'heartbeat.interval_ms', 'cluster.bus', 'cluster.redis.url', 'log.format']) {
      assert.equal(needsRestart(key), true, key)
    }
  })

  it('is false for keys that take effect live', () => {
    for (const key of ['log.level', 'rate_limit.per_connection.rate', 'auth.secret', 'rooms.default_max_clients', 'ws.max_connections', 'ws.max_connections_per_ip', 'config.watch']) {
      assert.equal(needsRestart(key), false, key)
    }
  })
})

describe('Application.reload', () => {
  it('lists the applied keys and puts the new values in force', () => {
    const { app } = appWithLog()
    const result = app.reload(changed(app, (c) => {
      c.rate_limit.per_connection.rate = 5
      c.auth.secret = 'rotated'
      c.ws.max_connections = 10
    }))
    assert.deepEqual(result.applied.sort(), ['auth.secret', 'rate_limit.per_connection.rate', 'ws.max_connections'])
    assert.deepEqual(result.restartRequired, [])
    assert.equal(app.config.rate_limit.per_connection.rate, 5)
    assert.equal(app.config.auth.secret, 'rotated')
  })

  it('makes app.config a new object and emits reload with the new and the previous config', () => {
    const { app } = appWithLog()
    const previous = app.config
    const seen: Array<[WshubConfig, WshubConfig]> = []
    app.on('reload', (config, before) => seen.push([config, before]))
    app.reload(changed(app, (c) => (c.rooms.presence_events = true)))
    assert.notEqual(app.config, previous)
    assert.equal(seen.length, 1)
    assert.equal(seen[0]![0], app.config)
    assert.equal(seen[0]![1], previous)
    assert.equal(previous.rooms.presence_events, false)
  })

  it('sets the log level when log.level changed', () => {
    const { app } = appWithLog()
    assert.equal(app.debug, false)
    app.reload(changed(app, (c) => (c.log.level = 'debug')))
    assert.equal(app.debug, true)
    assert.equal(app.log.level, 'debug')
  })

  it('leaves the logger alone when log.level did not change', () => {
    const { app } = appWithLog()
    app.setLogLevel('warn')
    app.reload(changed(app, (c) => (c.dedup.window_ms = 1000)))
    assert.equal(app.log.level, 'warn')
  })

  it('keeps the running value of a key that needs a restart and names it in a warning', () => {
    const { app, lines } = appWithLog()
    const result = app.reload(changed(app, (c) => {
      c.http.port = 9999
      c.ws.path = '/other'
      c.log.level = 'debug'
    }))
    assert.deepEqual(result.restartRequired.sort(), ['http.port', 'ws.path'])
    assert.deepEqual(result.applied, ['log.level'])
    assert.equal(app.config.http.port, 8080)
    assert.equal(app.config.ws.path, '/ws')
    const warning = lines.find((l) => l.level === 40 && 'keys' in l)
    assert.deepEqual((warning?.keys as string[]).sort(), ['http.port', 'ws.path'])
  })

  it('refuses an invalid config whole with a ConfigError naming the key, logged at error, and keeps the running one', () => {
    const { app, lines } = appWithLog()
    const running = app.config
    let events = 0
    app.on('reload', () => events++)
    const bad = changed(app, (c) => {
      c.log.level = 'debug'
      c.rate_limit.per_connection.rate = -1
    })
    assert.throws(() => app.reload(bad), (err: Error) => err instanceof ConfigError && /rate_limit\.per_connection\.rate/.test(err.message))
    assert.equal(app.config, running)
    assert.equal(app.debug, false)
    assert.equal(events, 0)
    const logged = lines.find((l) => l.level === 50)
    assert.match(String(logged?.err), /rate_limit\.per_connection\.rate/)
  })

  it('refuses a config with an unknown key', () => {
    const { app } = appWithLog()
    const bad = { ...app.config, colour: 'red' } as unknown as WshubConfig
    assert.throws(() => app.reload(bad), /colour/)
  })

  it('applies nothing when nothing changed', () => {
    const { app } = appWithLog()
    assert.deepEqual(app.reload(resolveConfig({})), { applied: [], restartRequired: [] })
  })
})

describe('reloadFromFile', () => {
  it('reloads the file and returns what changed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wshub-reload-unit-'))
    try {
      const file = join(dir, 'c.yaml')
      writeFileSync(file, 'rooms:\n  history_size: 20\n')
      const { app } = appWithLog()
      assert.deepEqual(reloadFromFile(app, file), { applied: ['rooms.history_size'], restartRequired: [] })
      assert.equal(app.config.rooms.history_size, 20)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('returns null and logs at error for a file that cannot be read, keeping the running config', () => {
    const { app, lines } = appWithLog()
    const running = app.config
    assert.equal(reloadFromFile(app, join(tmpdir(), 'wshub-no-such-dir', 'missing.yaml')), null)
    assert.equal(app.config, running)
    assert.equal(lines.filter((l) => l.level === 50).length, 1)
  })

  it('returns null for a file that is not valid YAML', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wshub-reload-unit-'))
    try {
      const file = join(dir, 'c.yaml')
      writeFileSync(file, 'rooms: [unclosed\n')
      const { app } = appWithLog()
      assert.equal(reloadFromFile(app, file), null)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('applyReload without an Application', () => {
  it('puts the new config in force on any target, keeps restart-only keys, sets a changed log level and emits reload', () => {
    const events = new EventEmitter<AppEvents>()
    const levels: string[] = []
    const target: ReloadTarget = {
      config: resolveConfig({ rooms: { default_max_clients: 1 }, http: { port: 9001 } }),
      log: pino({ level: 'silent' }),
      setLogLevel: (level) => void levels.push(level),
      emit: events.emit.bind(events),
      listenerCount: events.listenerCount.bind(events),
    }
    const previous = target.config
    const told: Array<[number, number]> = []
    events.on('reload', (config, before) => told.push([config.rooms.default_max_clients, before.rooms.default_max_clients]))
    const result = applyReload(target, resolveConfig({ rooms: { default_max_clients: 2 }, http: { port: 9002 }, log: { level: 'debug' } }))
    assert.deepEqual({ applied: [...result.applied].sort(), restartRequired: result.restartRequired }, { applied: ['log.level', 'rooms.default_max_clients'], restartRequired: ['http.port'] })
    assert.notEqual(target.config, previous)
    assert.equal(target.config.rooms.default_max_clients, 2)
    assert.equal(target.config.http.port, 9001)
    assert.deepEqual(levels, ['debug'])
    assert.deepEqual(told, [[2, 1]])
  })
})
