--[[
  Saves one entity's rule states and clears its journal of bucket closes (see apply-ops.lua), in one
  atomic step: the closes are evaluated exactly once, whether or not the process dies in between.

  KEYS[1]  entity base, e.g. {cpiwatch:storeId=S1} (suffixes: see src/store/redis/keys.ts)
  ARGV[1]  JSON { set: { ruleId: stateJson, ... }, del: [ ruleId, ... ], ttlMs }
]]
local base = KEYS[1]
local req = cjson.decode(ARGV[1])
local key = base .. ':rules'
local set = {}
for rule, state in pairs(req.set or {}) do
  set[#set + 1] = rule
  set[#set + 1] = state
end
if #set > 0 then
  redis.call('HSET', key, unpack(set))
  redis.call('PEXPIRE', key, req.ttlMs)
end
if req.del and #req.del > 0 then redis.call('HDEL', key, unpack(req.del)) end
redis.call('DEL', base .. ':pclose')
return 1
