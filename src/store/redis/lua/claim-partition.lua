--[[
  Claims an owner partition for the calling process: a new fencing epoch, and the partition's
  applied offsets and meta, atomically. Mirrors src/store/memory/partition-state.ts; both pass
  tests/contract/partition-state.contract.ts.

  KEYS[1]  partition base, e.g. {cpiwatch:p:cpiwatch.state:3} (suffixes: see src/store/redis/keys.ts)
  (no ARGV)

  Returns [ epoch (integer), [ source, offset, ... ], meta or nil ]
  The INCR fences every earlier claim: save-partition.lua refuses any epoch but the newest, so
  from this call on nobody but the new owner writes the partition, and its entities hash, which
  can be too big for one call, is read afterwards by HSCAN (store/redis/partition-state.ts).
]]
local base = KEYS[1]
local epoch = redis.call('INCR', base .. ':epoch')
return { epoch, redis.call('HGETALL', base .. ':offsets'), redis.call('GET', base .. ':meta') }
