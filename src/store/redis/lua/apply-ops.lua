--[[
  Applies one entity's ops of one batch, idempotently, and reads back its windows and rule states.
  Mirrors src/store/memory/memory-store.ts; both pass tests/contract/state-store.contract.ts.

  KEYS[1]  entity base, e.g. {cpiwatch:storeId=S1} (suffixes: see src/store/redis/keys.ts)
  ARGV[1]  JSON { source: "topic:partition", ops: [StateOp...], cpis: [CpiWindowSpec...], readCurrent? }

  Returns JSON { statuses: ["applied"|"duplicate"|"late"|"unmatched"...],
                 samples: { "<op index (0-based)>": value },
                 closes: [ snapshot... ]     the window just before each op that moved a watermark
                                             into a later bucket (at = end of the closed bucket)
                 snapshots: [ snapshot... ]  current windows, when readCurrent
                 rules: [ ruleId, stateJson, ... ] }
  snapshot = { cpi, watermark, at, count, sum (string), min (string), max (string), num, den, bins }

  Closes are journalled in :pclose until the rule states they lead to are saved (save-rule-states.lua
  clears it): a process that dies between this script and that save leaves them there, and the next
  call (the redelivered batch, whose ops are now duplicates and close nothing) returns them first,
  so no rule transition is lost to a crash.
]]
local base = KEYS[1]
local req = cjson.decode(ARGV[1])
-- memory bound of keys without a natural expiry (refreshed on every write)
local FACTS_TTL_MS = 90 * 86400000
local STATE_TTL_MS = 30 * 86400000
local source = req.source

local specs = {}
for _, s in ipairs(req.cpis) do specs[s.cpi] = s end

local GAMMA = (1 + 0.01) / (1 - 0.01)
local LOG_GAMMA = math.log(GAMMA)
local function bin_of(v)
  local m = math.abs(v)
  if m < 1e-9 then return 'z' end
  local i = math.ceil(math.log(m) / LOG_GAMMA)
  if v > 0 then return 'p' .. string.format('%d', i) end
  return 'n' .. string.format('%d', i)
end

local function num(x) return string.format('%.17g', x) end

local wm_key = base .. ':wm'
local watermarks = {}
local function watermark(cpi)
  if watermarks[cpi] == nil then
    local v = redis.call('HGET', wm_key, cpi)
    watermarks[cpi] = v and tonumber(v) or false
  end
  return watermarks[cpi]
end

local function first_bucket(now, spec)
  return math.floor(now / spec.resolutionMs) - spec.buckets + 1
end

local function is_late(t, wm, spec)
  if not wm then return false end
  if t < wm - spec.latenessMs then return true end
  return math.floor(t / spec.resolutionMs) < first_bucket(wm, spec)
end


local function snapshot(spec, wm, at)
  local snap = { cpi = spec.cpi, watermark = wm, at = at, count = 0, sum = 0, num = 0, den = 0, bins = {} }
  local last = math.floor(wm / spec.resolutionMs)
  for b = last - spec.buckets + 1, last do
    local fields = redis.call('HGETALL', base .. ':w:' .. spec.cpi .. ':' .. num(b))
    for j = 1, #fields, 2 do
      local f, v = fields[j], tonumber(fields[j + 1])
      if f == 'c' then snap.count = snap.count + v
      elseif f == 's' then snap.sum = snap.sum + v
      elseif f == 'n' then snap.num = snap.num + v
      elseif f == 'd' then snap.den = snap.den + v
      elseif f == 'mn' then if snap.min == nil or v < snap.min then snap.min = v end
      elseif f == 'mx' then if snap.max == nil or v > snap.max then snap.max = v end
      else
        local bin = string.sub(f, 2)
        snap.bins[bin] = (snap.bins[bin] or 0) + v
      end
    end
  end
  snap.sum = num(snap.sum)
  if snap.min then snap.min = num(snap.min) end
  if snap.max then snap.max = num(snap.max) end
  return snap
end

local closes = {}

local function add_to_window(cpi, t, value, n, d)
  local spec = specs[cpi]
  if not spec then return redis.error_reply('no window spec for CPI ' .. cpi) end
  local wm = watermark(cpi)
  if is_late(t, wm, spec) then return 'late' end
  if wm and math.floor(t / spec.resolutionMs) > math.floor(wm / spec.resolutionMs) then
    closes[#closes + 1] = snapshot(spec, wm, (math.floor(wm / spec.resolutionMs) + 1) * spec.resolutionMs)
  end
  local key = base .. ':w:' .. cpi .. ':' .. num(math.floor(t / spec.resolutionMs))
  if value then
    redis.call('HINCRBY', key, 'c', 1)
    redis.call('HINCRBYFLOAT', key, 's', num(value))
    local mn = redis.call('HGET', key, 'mn')
    if not mn or value < tonumber(mn) then redis.call('HSET', key, 'mn', num(value)) end
    local mx = redis.call('HGET', key, 'mx')
    if not mx or value > tonumber(mx) then redis.call('HSET', key, 'mx', num(value)) end
    redis.call('HINCRBY', key, 'b' .. bin_of(value), 1)
  else
    if n > 0 then redis.call('HINCRBY', key, 'n', n) end
    if d > 0 then redis.call('HINCRBY', key, 'd', d) end
  end
  redis.call('PEXPIRE', key, spec.ttlMs)
  if not wm or t > wm then
    watermarks[cpi] = t
    redis.call('HSET', wm_key, cpi, num(t))
    -- one hash for every CPI of the entity: keep the longest TTL any of them needs
    if redis.call('PTTL', wm_key) < spec.ttlMs then redis.call('PEXPIRE', wm_key, spec.ttlMs) end
  end
  return 'applied'
end

-- Pending halves of correlated durations: "s|time|divisorMs" or "e|time".
local function join(op, samples, index)
  local pend = base .. ':pend:' .. op.cpi
  local pendt = base .. ':pendt:' .. op.cpi
  -- evict halves that waited far longer than any partner could need (event time)
  local stale = redis.call('ZRANGEBYSCORE', pendt, '-inf', '(' .. num(op.time - 2 * op.maxPendingMs), 'LIMIT', 0, 50)
  for _, k in ipairs(stale) do
    redis.call('HDEL', pend, k)
    redis.call('ZREM', pendt, k)
  end
  local divisor_ms = op.divisorMs
  if op.kind == 'start' and divisor_ms == cjson.null then
    divisor_ms = nil
    if op.divisorFact then
      local f = redis.call('HGET', base .. ':facts', op.divisorFact)
      local v = f and tonumber(f)
      if v and v > 0 then divisor_ms = v * 1000 end
    end
    if not divisor_ms then divisor_ms = op.fallbackDivisorMs end
    if not divisor_ms then return 'unmatched' end
  end
  local other = redis.call('HGET', pend, op.key)
  local ttl = 3 * op.maxPendingMs
  if not other then
    if op.kind == 'start' then
      redis.call('HSET', pend, op.key, 's|' .. num(op.time) .. '|' .. num(divisor_ms))
    else
      redis.call('HSET', pend, op.key, 'e|' .. num(op.time))
    end
    redis.call('ZADD', pendt, num(op.time), op.key)
    redis.call('PEXPIRE', pend, ttl)
    redis.call('PEXPIRE', pendt, ttl)
    return 'applied'
  end
  local side, t1, div = string.match(other, '^(%a)|([^|]+)|?(.*)$')
  if (side == 's' and op.kind == 'start') or (side == 'e' and op.kind == 'end') then return 'unmatched' end
  redis.call('HDEL', pend, op.key)
  redis.call('ZREM', pendt, op.key)
  local start_time, end_time, divisor
  if op.kind == 'start' then
    start_time, end_time, divisor = op.time, tonumber(t1), divisor_ms
  else
    start_time, end_time, divisor = tonumber(t1), op.time, tonumber(div)
  end
  local elapsed = end_time - start_time
  if elapsed < 0 or elapsed > op.maxPendingMs then return 'unmatched' end
  local value = elapsed / divisor
  local status = add_to_window(op.cpi, end_time, value, 0, 0)
  if status == 'applied' then samples[tostring(index)] = num(value) end
  return status
end

local pclose_key = base .. ':pclose'
local pending_closes = redis.call('LRANGE', pclose_key, 0, -1)

local applied_key = base .. ':applied'
local before = tonumber(redis.call('HGET', applied_key, source) or '-1')
local after = before
local statuses = {}
local samples = {}

for i, op in ipairs(req.ops) do
  local status
  if op.offset <= before then
    status = 'duplicate'
  else
    if op.offset > after then after = op.offset end
    local kind = op.kind
    if kind == 'sample' then
      status = add_to_window(op.cpi, op.time, op.value, 0, 0)
    elseif kind == 'count' then
      status = add_to_window(op.cpi, op.time, nil, op.num, op.den)
    elseif kind == 'start' or kind == 'end' then
      status = join(op, samples, i - 1)
    elseif kind == 'fact' then
      local fkey = base .. ':facts'
      local t = tonumber(redis.call('HGET', fkey, '__t') or '-1')
      if op.time < t then
        status = 'late'
      else
        for field, value in pairs(op.facts) do redis.call('HSET', fkey, field, cjson.encode(value)) end
        redis.call('HSET', fkey, '__t', num(op.time))
        redis.call('PEXPIRE', fkey, FACTS_TTL_MS)
        status = 'applied'
      end
    elseif kind == 'enroute' then
      local zkey = base .. ':enroute'
      local prev = redis.call('ZSCORE', zkey, op.customer)
      if prev and op.time < tonumber(prev) then
        status = 'late'
      else
        redis.call('ZADD', zkey, num(op.time), op.customer)
        redis.call('HSET', base .. ':eta', op.customer, num(op.etaMs))
        redis.call('ZREMRANGEBYSCORE', zkey, '-inf', '(' .. num(op.time - op.keepMs))
        redis.call('PEXPIRE', zkey, op.keepMs)
        redis.call('PEXPIRE', base .. ':eta', op.keepMs)
        status = 'applied'
      end
    elseif kind == 'contrib' then
      local zkey = base .. ':contrib:' .. op.cpi
      local prev = redis.call('ZSCORE', zkey, op.customer)
      if not prev or op.time > tonumber(prev) then redis.call('ZADD', zkey, num(op.time), op.customer) end
      redis.call('ZREMRANGEBYSCORE', zkey, '-inf', '(' .. num(op.time - op.keepMs))
      redis.call('PEXPIRE', zkey, op.keepMs)
      status = 'applied'
    else
      return redis.error_reply('unknown op kind ' .. tostring(kind))
    end
  end
  statuses[i] = status
end
if after > before then
  redis.call('HSET', applied_key, source, num(after))
  redis.call('PEXPIRE', applied_key, STATE_TTL_MS)
end

local snapshots = {}
if req.readCurrent then
  for _, spec in ipairs(req.cpis) do
    local wm = watermark(spec.cpi)
    if wm then snapshots[#snapshots + 1] = snapshot(spec, wm, wm) end
  end
end

if #closes > 0 then
  local ttl = 0
  for _, spec in ipairs(req.cpis) do if spec.ttlMs > ttl then ttl = spec.ttlMs end end
  for i = 1, #closes, 100 do
    local chunk = {}
    for j = i, math.min(i + 99, #closes) do chunk[#chunk + 1] = cjson.encode(closes[j]) end
    redis.call('RPUSH', pclose_key, unpack(chunk))
  end
  redis.call('PEXPIRE', pclose_key, ttl)
end
if #pending_closes > 0 then
  local all = {}
  for _, c in ipairs(pending_closes) do all[#all + 1] = cjson.decode(c) end
  for _, c in ipairs(closes) do all[#all + 1] = c end
  closes = all
end

return cjson.encode({
  statuses = statuses,
  samples = samples,
  closes = closes,
  snapshots = snapshots,
  rules = redis.call('HGETALL', base .. ':rules'),
})
