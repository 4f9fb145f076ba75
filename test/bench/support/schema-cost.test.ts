/**
 * "No allocation when the data is valid" (issue 17), measured: the router's check of
 * valid data with wshub's own schemas and with a JSON Schema makes nothing on the heap;
 * a validator that does allocate (zod copies what it parses) is seen doing so, so the
 * measure can fail.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { bytesPerCheck, measuredChecks } from '../../../bench/support/schema-cost.js'
import { compileSchema } from '../../../lib/schema/compile.js'
import { builtinSchemas } from '../../../lib/builtin-routes.js'

describe('bytesPerCheck', () => {
  it('finds no allocation for valid data checked by the built-in routes’ schemas and by a JSON Schema', () => {
    const { json, builtin } = measuredChecks()
    const own = {
      room_message: builtin,
      join_room: { check: compileSchema(builtinSchemas.join_room), data: () => ({ room_id: 'lobby', since: 4 }) },
      direct_message: { check: compileSchema(builtinSchemas.direct_message), data: () => ({ target_user_id: 'u1', content: 'hi' }) },
      json,
    }
    for (const [name, { check, data }] of Object.entries(own)) {
      const bytes = bytesPerCheck(check, data)
      assert.ok(bytes < 1, `${name}: ${bytes} bytes per valid frame`)
    }
  })

  it('sees what a validator that copies its data allocates (zod)', () => {
    const { zod } = measuredChecks()
    const bytes = bytesPerCheck(zod.check, zod.data)
    assert.ok(bytes > 16, `zod: ${bytes} bytes per valid frame`)
  })
})
