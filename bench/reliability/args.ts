/** `--name value` flags of the reliability scripts, with numeric defaults. */
export function numberFlag(name: string, fallback: number): number {
  const at = process.argv.indexOf(`--${name}`)
  if (at === -1) return fallback
  const value = Number(process.argv[at + 1])
  if (!Number.isFinite(value) || value < 0) {
    console.error(`--${name} takes a number (got ${process.argv[at + 1]})`)
    process.exit(2)
  }
  return value
}
