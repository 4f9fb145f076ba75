/**
 * `npx wshub [--config FILE]`: starts one node. SIGINT/SIGTERM drain it (close 1001 to
 * every client) and exit 0; a bad configuration exits 2 with a message naming the key, as
 * does an address the machine cannot listen on; a port already in use exits 1.
 * SIGHUP reloads the file and the environment (see reload.ts).
 */
import { parseArgs } from 'node:util'
import { ConfigError, loadConfig } from './config.js'
import { createApp } from './application.js'
import { installReload } from './reload.js'
import type { Logger } from './logger.js'

const usage = 'usage: wshub [--config FILE]\n\nStarts one wshub node. Every key can also be set as WSHUB_<KEY_PATH> (e.g. WSHUB_HTTP_PORT=9000).'

async function main(): Promise<void> {
  let file: string | undefined
  try {
    const { values } = parseArgs({ options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } })
    if (values.help) {
      process.stdout.write(`${usage}\n`)
      return
    }
    file = values.config
  } catch (err) {
    process.stderr.write(`wshub: ${(err as Error).message}\n${usage}\n`)
    process.exit(2)
  }

  let app
  try {
    app = createApp(loadConfig(file))
  } catch (err) {
    if (err instanceof ConfigError || (err as NodeJS.ErrnoException).code === 'ENOENT') {
      process.stderr.write(`wshub: ${(err as Error).message}\n`)
      process.exit(2)
    }
    throw err
  }

  installReload(app, file)
  let stopping = false
  const stop = (signal: string) => {
    if (stopping) return
    stopping = true
    app.log.info({ signal }, 'draining')
    app.close().then(
      () => exitAfterFlush(app.log, 0),
      (err) => {
        app.log.error({ err }, 'drain failed')
        exitAfterFlush(app.log, 1)
      },
    )
  }
  process.on('SIGINT', () => stop('SIGINT'))
  process.on('SIGTERM', () => stop('SIGTERM'))

  try {
    await app.listen()
  } catch (err) {
    // An address this machine cannot use is a bad value (exit 2), a port another process holds is not (exit 1);
    // the message names the key and the address either way.
    const message = (err as Error).message
    app.log.fatal({ err: message }, 'could not start')
    process.stderr.write(`wshub: could not start: ${message}\n`)
    exitAfterFlush(app.log, err instanceof ConfigError ? 2 : 1)
  }
}

/** Exits once the log lines written so far are out (the destination is asynchronous), or after a second at most. */
function exitAfterFlush(log: Logger, code: number): void {
  setTimeout(() => process.exit(code), 1000)
  log.flush(() => process.exit(code))
}

void main()
