import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { cpuSeconds } from '../../../bench/support/proc.js'

// A process that works, then sleeps until asked for what getrusage counts for it (every thread).
const CHILD = `
const end = process.cpuUsage().user + 7000
while (process.cpuUsage().user < end) Math.sqrt(Math.random())
process.stdin.on('data', () => {
  const u = process.cpuUsage()
  process.stdout.write(String((u.user + u.system) / 1e6) + '\\n')
})
process.stdout.write('ready\\n')
`

describe('cpuSeconds', () => {
  it("reads another process's CPU time, every thread, finer than proc(5)'s 10 ms ticks", async () => {
    const child = spawn(process.execPath, ['-e', CHILD], { stdio: ['pipe', 'pipe', 'inherit'] })
    try {
      await once(child.stdout!, 'data')
      await new Promise((resolve) => setTimeout(resolve, 100)) // off the CPU: its threads' time is all accounted
      const read = cpuSeconds(child.pid!)
      child.stdin!.write('?\n')
      const [line] = (await once(child.stdout!, 'data')) as [Buffer]
      const counted = Number(line.toString().trim())
      assert.ok(read > 0.007, `read ${read} s`)
      // The child counted after the read, waking up to answer: a little more, never less.
      // Ticks would be short by the part of a tick they cut, 0-10 ms.
      assert.ok(counted >= read && counted - read < 0.0015, `read ${read} s, the child counted ${counted} s after`)
    } finally {
      child.kill()
    }
  })
})
