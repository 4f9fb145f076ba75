/**
 * The logger: pino, JSON lines by default, `log.format: pretty` for humans. The one
 * global debug switch is `log.level: debug`; hot paths read `logger.isLevelEnabled`
 * once into a boolean, never per field.
 */
import { pino, type Logger, type DestinationStream } from 'pino'
import pretty from 'pino-pretty'
import type { WshubConfig } from './config.js'

export type { Logger }

/** Makes the node's logger; `destination` defaults to stdout. */
export function createLogger(config: Pick<WshubConfig, 'log'>, nodeId: string, destination?: DestinationStream): Logger {
  const options = { level: config.log.level, base: { node_id: nodeId } }
  if (destination) return pino(options, destination)
  if (config.log.format === 'pretty') return pino(options, pretty({ sync: true, colorize: process.stdout.isTTY, ignore: 'pid,hostname' }))
  // Asynchronous: a synchronous write(2) per line cost 70 µs into a pipe, two lines per
  // connection. pino writes what is left synchronously on exit; cli.ts flushes before exiting.
  return pino(options, pino.destination({ fd: 1, sync: false }))
}
