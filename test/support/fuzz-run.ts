/**
 * One mutation-fuzz run against a live node: several sessions each send batches of
 * mutated frames and check every answer; frames that must close the connection (invalid
 * UTF-8, oversize) go one by one on fresh connections, up to a cap.
 */
import { expectationOf, mutatedFrames, oversizeFrame, type FuzzFrame } from './fuzz-frames.js'
import { FuzzSession, probeClose, type FuzzFailure } from './fuzz-driver.js'

export interface FuzzRunOptions {
  url: string
  /** Frames to send in all (over every session, close probes included). */
  frames: number
  seed: number
  sessions?: number
  batch?: number
  maxPayload?: number
  /** Close-expected frames probed on their own connection, at most. */
  maxProbes?: number
}

export interface FuzzRunReport {
  frames: number
  probes: { 1007: number; 1009: number }
  failures: FuzzFailure[]
  ms: number
}

/** Runs the mutation fuzzer; stops at the first session that fails. */
export async function runMutationFuzz(options: FuzzRunOptions): Promise<FuzzRunReport> {
  const { url, seed, sessions: count = 4, batch = 200, maxPayload = 65536, maxProbes = 200 } = options
  const started = performance.now()
  let ints = 0
  let strings = 0
  const sessions = await Promise.all(Array.from({ length: count }, () => FuzzSession.open(url)))
  const probes = { 1007: 0, 1009: 0 }
  const failures: FuzzFailure[] = []
  const probeQueue: FuzzFrame[] = [oversizeFrame(maxPayload)]
  const perSession = Math.ceil((options.frames - 1) / count)
  let sent = 0

  await Promise.all(
    sessions.map(async (session, i) => {
      const target = sessions[(i + 1) % count]!.clientId
      let flip = 0
      const frames = mutatedFrames(seed * 31 + i, target, maxPayload, () => (++flip % 2 === 0 ? ++ints : `s-${++strings}`))
      let left = perSession
      while (left > 0 && failures.length === 0) {
        const chunk: FuzzFrame[] = []
        while (chunk.length < Math.min(batch, left)) {
          const frame = frames.next().value as FuzzFrame
          if (expectationOf(frame, maxPayload).kind === 'close') {
            if (probeQueue.length + probes[1007] + probes[1009] >= maxProbes) continue
            probeQueue.push(frame)
            left--
            continue
          }
          chunk.push(frame)
        }
        left -= chunk.length
        if (!(await session.runBatch(chunk, maxPayload))) failures.push(...session.failures)
        sent += chunk.length
      }
    }),
  )
  for (const frame of probeQueue) {
    const expected = expectationOf(frame, maxPayload)
    const code = await probeClose(url, frame)
    if (expected.kind !== 'close' || code !== expected.code) failures.push({ what: `close ${expected.kind === 'close' ? expected.code : '?'} expected, got ${code}`, frame: frame.bytes.subarray(0, 200).toString('hex') })
    else probes[expected.code]++
  }
  for (const session of sessions) session.close()
  return { frames: sent + probes[1007] + probes[1009], probes, failures, ms: performance.now() - started }
}
