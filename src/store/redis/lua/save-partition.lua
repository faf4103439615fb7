--[[
  Saves what one batch changed in an owner partition, if the caller's claim is still the newest.
  Mirrors src/store/memory/partition-state.ts; both pass tests/contract/partition-state.contract.ts.

  KEYS[1]  partition base, e.g. {cpiwatch:p:cpiwatch.state:3} (suffixes: see src/store/redis/keys.ts)
  ARGV[1]  epoch of the caller's claim (claim-partition.lua)
  ARGV[2]  s: number of entities to set        ARGV[3]  d: number of entities to delete
  ARGV[4]  o: number of offsets to set         ARGV[5]  "1" if the last argument is a new meta, else "0"
  ARGV[6..]  s pairs tag, state; then d tags; then o pairs source, offset; then the meta, if any

  Returns 1; or, when ARGV[1] is not the current epoch, the error "FENCED <current epoch>" and
  nothing is written. Tags and states are plain strings, never decoded here (cjson would choke on
  lone surrogate escapes and turn odd field names into other ones): Redis stores their bytes as
  sent. A batch that changed more than one call should carry is split by the caller into several
  calls, each checking the epoch, only the last with offsets and meta (see partition-state.ts).
]]
local base = KEYS[1]
local current = redis.call('GET', base .. ':epoch')
if not current or current ~= ARGV[1] then return redis.error_reply('FENCED ' .. (current or '0')) end

local s, d, o = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local has_meta = ARGV[5] == '1' and 1 or 0
if not (s and d and o) or #ARGV ~= 5 + 2 * s + d + 2 * o + has_meta then
  return redis.error_reply('ERR save-partition: ARGV does not match its counts')
end

-- unpack() is bounded by the Lua C stack (8000 values): at most 1000 arguments per command
local CHUNK = 1000
local function each_chunk(command, key, first, last)
  for i = first, last, CHUNK do redis.call(command, key, unpack(ARGV, i, math.min(i + CHUNK - 1, last))) end
end

local i = 6
each_chunk('HSET', base .. ':entities', i, i + 2 * s - 1)
i = i + 2 * s
each_chunk('HDEL', base .. ':entities', i, i + d - 1)
i = i + d
each_chunk('HSET', base .. ':offsets', i, i + 2 * o - 1)
i = i + 2 * o
if has_meta == 1 then redis.call('SET', base .. ':meta', ARGV[i]) end
return 1
