/**
 * Headless Chromium for the browser tests (test/e2e), driven by playwright-core with
 * Debian's chromium (a fresh machine gets it from .ci/run). Where it is missing the tests
 * skip with an install hint, unless WSHUB_TEST_REQUIRE_SERVICES=1, where they fail.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { BrowserContext } from 'playwright-core'

const CHROMIUM = process.env.WSHUB_CHROMIUM ?? '/usr/bin/chromium'
const INSTALL_HINT = 'apt-get update && apt-get install -y chromium chromium-driver'
const missing = !existsSync(CHROMIUM)

/** Where the browser tests save their screenshots (gitignored). */
export const artifacts = fileURLToPath(new URL('../../../test/e2e/artifacts/', import.meta.url))

/** The `skip` reason when Chromium is missing and the services are not required; false otherwise. */
export const skipWithoutChromium: string | false =
  missing && process.env.WSHUB_TEST_REQUIRE_SERVICES !== '1' ? `Chromium not found at ${CHROMIUM}; install it with: ${INSTALL_HINT}` : false

/** A browser with an empty profile of its own; `close()` ends it and removes the profile. */
export interface TestBrowser {
  context: BrowserContext
  close(): Promise<void>
}

/**
 * Starts Chromium headless with the flags this machine's closed network needs (without the
 * background-networking ones it keeps trying to reach Google's hosts).
 */
export async function openBrowser(viewport: { width: number; height: number }): Promise<TestBrowser> {
  if (missing) throw new Error(`Chromium not found at ${CHROMIUM} and WSHUB_TEST_REQUIRE_SERVICES=1; install it with: ${INSTALL_HINT}`)
  const { chromium } = await import('playwright-core')
  const userDataDir = mkdtempSync(join(tmpdir(), 'wshub-e2e-'))
  mkdirSync(artifacts, { recursive: true })
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    viewport,
  })
  return {
    context,
    async close() {
      await context.close()
      rmSync(userDataDir, { recursive: true, force: true })
    },
  }
}
