/**
 * The Lua scripts of the Redis cluster state: each one step Redis runs atomically, so
 * `max_clients`, the sweep of a dead node and the token buckets hold across nodes
 * without locks. Times come from the Redis server (`TIME`), so nodes' clocks need not
 * agree. Keys are named in lib/cluster/redis.ts; every key of one cluster shares the
 * hash tag `{prefix}`, so they all live in one slot.
 */

const now = `local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`

/** KEYS: rooms, members of the room, rooms of the client, clients of the node. ARGV: room, client, member JSON, record JSON to create or ''. */
export const join = `
local rec = redis.call('HGET', KEYS[1], ARGV[1])
local created = 0
if not rec then
  if ARGV[4] == '' then return {'not_found'} end
  rec = ARGV[4]
  redis.call('HSET', KEYS[1], ARGV[1], rec)
  created = 1
end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return {'already_member'} end
local max = tonumber(cjson.decode(rec).max_clients) or 0
local n = redis.call('HLEN', KEYS[2])
if max > 0 and n >= max then return {'full'} end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[2])
return {'joined', n + 1, created, rec}`

/** KEYS: members of the room, rooms of the client. ARGV: room, client. */
export const leave = `
local removed = redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('SREM', KEYS[2], ARGV[1])
return removed`

// Takes a client out of its user's index (`uc:<user>`), given its record JSON (or false).
const unindexUser = `
local function unindexUser(prefix, record, client)
  if not record then return end
  local user = cjson.decode(record).user_id
  if type(user) == 'string' then redis.call('SREM', prefix .. 'uc:' .. user, client) end
end`

/** KEYS: clients, client ids, rooms of the client, clients of the node. ARGV: key prefix, client. */
export const removeClient = `
${unindexUser}
unindexUser(ARGV[1], redis.call('HGET', KEYS[1], ARGV[2]), ARGV[2])
for _, room in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  redis.call('HDEL', ARGV[1] .. 'm:' .. room, ARGV[2])
end
redis.call('DEL', KEYS[3])
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('SREM', KEYS[4], ARGV[2])
return 1`

/**
 * KEYS: clients, rooms of the client. ARGV: key prefix, client, client JSON, member JSON.
 * Replaces the client's record and its member record in each of its rooms; resolves to 0,
 * writing nothing, when the client is not there (it left meanwhile).
 */
export const updateClient = `
${unindexUser}
local before = redis.call('HGET', KEYS[1], ARGV[2])
if not before then return 0 end
unindexUser(ARGV[1], before, ARGV[2])
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
local user = cjson.decode(ARGV[3]).user_id
if type(user) == 'string' then redis.call('SADD', ARGV[1] .. 'uc:' .. user, ARGV[2]) end
for _, room in ipairs(redis.call('SMEMBERS', KEYS[2])) do
  local members = ARGV[1] .. 'm:' .. room
  if redis.call('HEXISTS', members, ARGV[2]) == 1 then redis.call('HSET', members, ARGV[2], ARGV[4]) end
end
return 1`

/** KEYS: rooms, members of the room. ARGV: key prefix, room. Resolves to the member JSONs, or false when there was no room. */
export const deleteRoom = `
if redis.call('HDEL', KEYS[1], ARGV[2]) == 0 then return false end
local members = redis.call('HVALS', KEYS[2])
for _, client in ipairs(redis.call('HKEYS', KEYS[2])) do
  redis.call('SREM', ARGV[1] .. 'cr:' .. client, ARGV[2])
end
redis.call('DEL', KEYS[2], ARGV[1] .. 'h:' .. ARGV[2], ARGV[1] .. 'hn:' .. ARGV[2])
return members`

/** KEYS: node expiries, node records. ARGV: node, record JSON, ttl ms. Resolves to 1 when the node was known. */
export const heartbeat = `
${now}
local added = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1 - added`

/** KEYS: node expiries, node records. Resolves to the records of live nodes. */
export const liveNodes = `
${now}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
if #ids == 0 then return {} end
return redis.call('HMGET', KEYS[2], unpack(ids))`

/**
 * KEYS: node expiries, node records, clients, client ids. ARGV: key prefix.
 * Removes every member and client of nodes past their expiry; resolves to
 * [room, member JSON, ...] of what it removed. Atomic, so when several live nodes sweep
 * at once exactly one of them reports each removal.
 */
export const sweep = `
${now}
${unindexUser}
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
local removed = {}
for _, node in ipairs(dead) do
  local nodeClients = ARGV[1] .. 'nc:' .. node
  for _, client in ipairs(redis.call('SMEMBERS', nodeClients)) do
    local clientRooms = ARGV[1] .. 'cr:' .. client
    for _, room in ipairs(redis.call('SMEMBERS', clientRooms)) do
      local members = ARGV[1] .. 'm:' .. room
      local member = redis.call('HGET', members, client)
      if member then
        redis.call('HDEL', members, client)
        removed[#removed + 1] = room
        removed[#removed + 1] = member
      end
    end
    redis.call('DEL', clientRooms)
    unindexUser(ARGV[1], redis.call('HGET', KEYS[3], client), client)
    redis.call('HDEL', KEYS[3], client)
    redis.call('ZREM', KEYS[4], client)
  end
  redis.call('DEL', nodeClients)
  redis.call('ZREM', KEYS[1], node)
  redis.call('HDEL', KEYS[2], node)
end
return removed`

/** KEYS: the bucket. ARGV: rate per second, burst. Resolves to ms until a token is free (0 = taken). */
export const takeToken = `
${now}
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + (now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) * 1000 / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return wait`

/**
 * The offset epoch, `<base>:<stamp>`: every history counter starts at the base when it is
 * made. A fresh cluster's base is 0, so offsets count from 1. The stamp (Redis `TIME` in
 * microseconds when the value was written) tells two epochs of the same base apart.
 *
 * A node passes the epoch it knows ('' when it knows none yet). If the key is missing, or
 * is not the one the node knew nor a later one another node set (a node that never knew
 * wrote a fresh 0 first), the state was lost since: the new base is the stamp (a double
 * holds it exactly until about 2255), and above the old base even if the clock went back,
 * so every counter made from now on starts above every offset given before the loss.
 */
const epochOf = `
-- The base as written (a string: Redis may print a large Lua number with an exponent).
local function baseOf(epoch) return string.match(epoch, '^%d+') end
local function epochOf(key, known)
  local current = redis.call('GET', key)
  if current and (known == '' or current == known or tonumber(baseOf(current)) > tonumber(baseOf(known))) then return current end
  local t = redis.call('TIME')
  local stamp = string.format('%.0f', tonumber(t[1]) * 1000000 + tonumber(t[2]))
  local base = '0'
  if known ~= '' then base = string.format('%.0f', math.max(tonumber(stamp), tonumber(baseOf(known)) + 1)) end
  local epoch = base .. ':' .. stamp
  redis.call('SET', key, epoch)
  return epoch
end`

/** KEYS: offset epoch. ARGV: the epoch this node knows, or ''. Resolves to the epoch. */
export const offsetEpoch = `
${epochOf}
return epochOf(KEYS[1], ARGV[1])`

/**
 * KEYS: rooms, history counter, offset epoch. ARGV: room, the epoch this node knows.
 * Resolves to {next offset, epoch}, or false when there is no room. A missing counter
 * starts at the epoch's base, in the same step that checks the epoch: a node that knew
 * it never takes an offset from a counter made again at 0 after a loss.
 */
export const nextOffset = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return false end
${epochOf}
local epoch = epochOf(KEYS[3], ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], baseOf(epoch)) end
return {redis.call('INCR', KEYS[2]), epoch}`

/**
 * KEYS: history, offset epoch. ARGV: offset, frame, size, the epoch the offset was taken in.
 * Resolves to 0, keeping nothing, when the epoch changed since: the offset belongs to a
 * history that was lost, and kept in the new one it would sit below the new offsets.
 */
export const appendHistory = `
if redis.call('GET', KEYS[2]) ~= ARGV[4] then return 0 end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, -(tonumber(ARGV[3]) + 1))
return 1`

/** KEYS: history, history counter. ARGV: since. Resolves to {last offset, first kept offset or -1, offset, frame, ...}. */
export const readHistory = `
local last = tonumber(redis.call('GET', KEYS[2]) or '0')
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local out = {last, first[2] and tonumber(first[2]) or -1}
local entries = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf', 'WITHSCORES')
for i = 1, #entries, 2 do
  out[#out + 1] = tonumber(entries[i + 1])
  out[#out + 1] = entries[i]
end
return out`
