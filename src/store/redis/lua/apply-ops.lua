--[[
  Applies one entity's ops of one batch, idempotently, and reads back its windows and rule states.
  Mirrors src/store/memory/memory-store.ts; both pass tests/contract/state-store.contract.ts.

  KEYS[i]  entity base, e.g. {cpiwatch:storeId=S1} (suffixes: see src/store/redis/keys.ts)
  ARGV[i]  JSON { source: "topic:partition", ops: [StateOp...], cpis: [CpiWindowSpec...], readCurrent? }
  One entity per key: with one key the reply is one result, with several (standalone Redis: every
  entity of a batch in one call, which saves the fixed cost of a call per entity) a JSON list of them.
  An entity whose ops are all facts takes a short path (apply_facts): no closes, no rule states.

  Returns JSON { statuses: "adlu..." one letter per op: applied, duplicate, late, unmatched,
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
-- memory bound of keys without a natural expiry (refreshed on every write)
local FACTS_TTL_MS = 90 * 86400000
local STATE_TTL_MS = 30 * 86400000
local STATUS_LETTER = { applied = 'a', duplicate = 'd', late = 'l', unmatched = 'u' }

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

local function first_bucket(now, spec)
  return math.floor(now / spec.resolutionMs) - spec.buckets + 1
end

local function is_late(t, wm, spec)
  if not wm then return false end
  if t < wm - spec.latenessMs then return true end
  return math.floor(t / spec.resolutionMs) < first_bucket(wm, spec)
end

local function apply_one(base, req)
local source = req.source
local specs = {}
for _, s in ipairs(req.cpis) do specs[s.cpi] = s end

local wm_key = base .. ':wm'
local watermarks = {}
local function watermark(cpi)
  if watermarks[cpi] == nil then
    local v = redis.call('HGET', wm_key, cpi)
    watermarks[cpi] = v and tonumber(v) or false
  end
  return watermarks[cpi]
end


-- Window buckets are read at most once per call and written once at its end (flush_buckets): a
-- batch of hundreds of ops on one entity touches a handful of buckets, and closes re-read the window.
local buckets = {}
local SCALAR = { c = true, s = true, n = true, d = true, mn = true, mx = true }
local function bucket(key)
  local b = buckets[key]
  if not b then
    local flat = redis.call('HGETALL', key)
    b = { bins = {}, dirty = {}, ttl = false }
    for j = 1, #flat, 2 do
      local f, v = flat[j], tonumber(flat[j + 1])
      if SCALAR[f] then b[f] = v else b.bins[string.sub(f, 2)] = v end
    end
    buckets[key] = b
  end
  return b
end

local function snapshot(spec, wm, at)
  local snap = { cpi = spec.cpi, watermark = wm, at = at, count = 0, sum = 0, num = 0, den = 0, bins = {} }
  local bins = snap.bins
  local last = math.floor(wm / spec.resolutionMs)
  local prefix = base .. ':w:' .. spec.cpi .. ':'
  for i = last - spec.buckets + 1, last do
    local b = bucket(prefix .. num(i))
    if b.c then snap.count = snap.count + b.c end
    if b.s then snap.sum = snap.sum + b.s end
    if b.n then snap.num = snap.num + b.n end
    if b.d then snap.den = snap.den + b.d end
    if b.mn and (snap.min == nil or b.mn < snap.min) then snap.min = b.mn end
    if b.mx and (snap.max == nil or b.mx > snap.max) then snap.max = b.mx end
    for bin, v in pairs(b.bins) do bins[bin] = (bins[bin] or 0) + v end
  end
  snap.sum = num(snap.sum)
  if snap.min then snap.min = num(snap.min) end
  if snap.max then snap.max = num(snap.max) end
  return snap
end

-- only the fields this call changed are written
local function flush_buckets()
  for key, b in pairs(buckets) do
    if b.ttl then
      local args = {}
      for f in pairs(b.dirty) do
        args[#args + 1] = f
        if SCALAR[f] then args[#args + 1] = num(b[f]) else args[#args + 1] = num(b.bins[string.sub(f, 2)]) end
      end
      redis.call('HSET', key, unpack(args))
      redis.call('PEXPIRE', key, b.ttl)
    end
  end
end

-- watermarks advanced by this call: written once at the end, with the longest TTL they need
local wm_ttl = false

local closes = {}

local function add_to_window(cpi, t, value, n, d)
  local spec = specs[cpi]
  if not spec then return redis.error_reply('no window spec for CPI ' .. cpi) end
  local wm = watermark(cpi)
  if is_late(t, wm, spec) then return 'late' end
  if wm and math.floor(t / spec.resolutionMs) > math.floor(wm / spec.resolutionMs) then
    closes[#closes + 1] = snapshot(spec, wm, (math.floor(wm / spec.resolutionMs) + 1) * spec.resolutionMs)
  end
  local b = bucket(base .. ':w:' .. cpi .. ':' .. num(math.floor(t / spec.resolutionMs)))
  local dirty = b.dirty
  if value then
    b.c = (b.c or 0) + 1
    b.s = (b.s or 0) + value
    dirty.c, dirty.s = true, true
    if b.mn == nil or value < b.mn then b.mn = value; dirty.mn = true end
    if b.mx == nil or value > b.mx then b.mx = value; dirty.mx = true end
    local bin = bin_of(value)
    b.bins[bin] = (b.bins[bin] or 0) + 1
    dirty['b' .. bin] = true
  else
    if n > 0 then b.n = (b.n or 0) + n; dirty.n = true end
    if d > 0 then b.d = (b.d or 0) + d; dirty.d = true end
  end
  b.ttl = spec.ttlMs
  if not wm or t > wm then
    watermarks[cpi] = t
    -- one hash for every CPI of the entity: keep the longest TTL any of them needs
    if not wm_ttl or wm_ttl < spec.ttlMs then wm_ttl = spec.ttlMs end
  end
  return 'applied'
end

local function flush_watermarks()
  if not wm_ttl then return end
  local args = {}
  for cpi, wm in pairs(watermarks) do
    if wm then
      args[#args + 1] = cpi
      args[#args + 1] = num(wm)
    end
  end
  redis.call('HSET', wm_key, unpack(args))
  if redis.call('PTTL', wm_key) < wm_ttl then redis.call('PEXPIRE', wm_key, wm_ttl) end
end

-- Pending halves of correlated durations: "s|time|divisorMs" or "e|time".
-- per CPI: the oldest pending time known (false: none), and the expiry to set at the end
-- Pending halves are read once (HMGET of every key the call's ops name, prefetch_pending) and
-- written once at the end (flush_pending): per CPI the value of each key as this call sees it
-- (false: none), as it is stored, and the event time of values this call wrote.
local pend_val = {}
local pend_stored = {}
local pend_time = {}
-- per CPI: the oldest pending time known (false: none), and the expiry to set at the end
local pend_oldest = {}
local pend_ttl = {}
local function oldest_pending(pendt)
  local first = redis.call('ZRANGEBYSCORE', pendt, '-inf', '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  return first[2] and tonumber(first[2]) or false
end

local function pend_tables(cpi)
  if not pend_val[cpi] then
    pend_val[cpi], pend_stored[cpi], pend_time[cpi] = {}, {}, {}
  end
  return pend_val[cpi], pend_stored[cpi], pend_time[cpi]
end

local function prefetch_pending(keys_by_cpi)
  for cpi, keys in pairs(keys_by_cpi) do
    local vals, stored = pend_tables(cpi)
    for i = 1, #keys, 500 do
      local chunk = {}
      for j = i, math.min(i + 499, #keys) do chunk[#chunk + 1] = keys[j] end
      local got = redis.call('HMGET', base .. ':pend:' .. cpi, unpack(chunk))
      for j, k in ipairs(chunk) do
        vals[k] = got[j] or false
        stored[k] = vals[k]
      end
    end
  end
end

local function pend_get(cpi, key)
  local vals, stored = pend_tables(cpi)
  local v = vals[key]
  if v == nil then
    v = redis.call('HGET', base .. ':pend:' .. cpi, key) or false
    vals[key] = v
    stored[key] = v
  end
  return v
end

local function flush_pending(cpi)
  local vals, stored, times = pend_tables(cpi)
  local pend = base .. ':pend:' .. cpi
  local pendt = base .. ':pendt:' .. cpi
  local set, zadd, del = {}, {}, {}
  for k, v in pairs(vals) do
    if v ~= stored[k] then
      if v then
        set[#set + 1] = k
        set[#set + 1] = v
        zadd[#zadd + 1] = num(times[k])
        zadd[#zadd + 1] = k
      else
        del[#del + 1] = k
      end
      stored[k] = v
    end
  end
  for i = 1, #set, 1000 do redis.call('HSET', pend, unpack(set, i, math.min(i + 999, #set))) end
  for i = 1, #zadd, 1000 do redis.call('ZADD', pendt, unpack(zadd, i, math.min(i + 999, #zadd))) end
  for i = 1, #del, 500 do
    local last = math.min(i + 499, #del)
    redis.call('HDEL', pend, unpack(del, i, last))
    redis.call('ZREM', pendt, unpack(del, i, last))
  end
end

local function join(op, samples, index)
  local pend = base .. ':pend:' .. op.cpi
  local pendt = base .. ':pendt:' .. op.cpi
  -- evict halves that waited far longer than any partner could need (event time); the query runs
  -- only when the oldest pending half is that old (it finds nothing otherwise)
  if pend_oldest[op.cpi] == nil then pend_oldest[op.cpi] = oldest_pending(pendt) end
  local threshold = op.time - 2 * op.maxPendingMs
  if pend_oldest[op.cpi] and pend_oldest[op.cpi] < threshold then
    -- rare: write what this call changed so far, so the query sees exactly what it would have
    flush_pending(op.cpi)
    local vals, stored = pend_tables(op.cpi)
    local stale = redis.call('ZRANGEBYSCORE', pendt, '-inf', '(' .. num(threshold), 'LIMIT', 0, 50)
    for _, k in ipairs(stale) do
      redis.call('HDEL', pend, k)
      redis.call('ZREM', pendt, k)
      vals[k] = false
      stored[k] = false
    end
    pend_oldest[op.cpi] = oldest_pending(pendt)
  end
  local divisor_ms = op.divisorMs
  if op.kind == 'start' and divisor_ms == cjson.null then
    divisor_ms = nil
    if op.divisorFact then
      local f = redis.call('HGET', base .. ':facts', op.divisorFact)
      local v = f and tonumber(f)
      if v and v >= 0.001 then divisor_ms = v * 1000 end
    end
    if not divisor_ms then divisor_ms = op.fallbackDivisorMs end
    if not divisor_ms then return 'unmatched' end
  end
  local other = pend_get(op.cpi, op.key)
  local ttl = 3 * op.maxPendingMs
  if not other then
    local vals, _, times = pend_tables(op.cpi)
    if op.kind == 'start' then
      vals[op.key] = 's|' .. num(op.time) .. '|' .. num(divisor_ms)
    else
      vals[op.key] = 'e|' .. num(op.time)
    end
    times[op.key] = op.time
    if not pend_oldest[op.cpi] or op.time < pend_oldest[op.cpi] then pend_oldest[op.cpi] = op.time end
    pend_ttl[op.cpi] = ttl
    return 'applied'
  end
  local side, t1, div = string.match(other, '^(%a)|([^|]+)|?(.*)$')
  if (side == 's' and op.kind == 'start') or (side == 'e' and op.kind == 'end') then return 'unmatched' end
  pend_val[op.cpi][op.key] = false
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

local join_keys = {}
for _, op in ipairs(req.ops) do
  if (op.kind == 'start' or op.kind == 'end') and op.offset > before then
    join_keys[op.cpi] = join_keys[op.cpi] or {}
    local keys = join_keys[op.cpi]
    keys[#keys + 1] = op.key
  end
end
prefetch_pending(join_keys)

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
      local tkey = base .. ':factst'
      local t = tonumber(redis.call('GET', tkey) or '-1') or -1
      if op.time < t then
        status = 'late'
      else
        redis.call('SET', tkey, num(op.time), 'PX', FACTS_TTL_MS)
        local args = {}
        for field, value in pairs(op.facts) do
          args[#args + 1] = field
          args[#args + 1] = cjson.encode(value)
        end
        if #args > 0 then
          redis.call('HSET', fkey, unpack(args))
          redis.call('PEXPIRE', fkey, FACTS_TTL_MS)
        end
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
  if type(status) == 'table' then return status end -- an error reply
  statuses[i] = STATUS_LETTER[status]
end
flush_buckets()
flush_watermarks()
for cpi in pairs(pend_val) do flush_pending(cpi) end
for cpi, ttl in pairs(pend_ttl) do
  redis.call('PEXPIRE', base .. ':pend:' .. cpi, ttl)
  redis.call('PEXPIRE', base .. ':pendt:' .. cpi, ttl)
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

return {
  statuses = table.concat(statuses),
  samples = samples,
  closes = closes,
  snapshots = snapshots,
  rules = redis.call('HGETALL', base .. ':rules'),
}
end

-- An entity whose ops are all facts (customer profiles, mostly) cannot close a bucket and has no
-- window to read: only the offsets and the facts hash are touched. Closes journalled by an earlier
-- call stay in :pclose for the entity's next call with window ops; its rule states are not read
-- (no candidate comes of a facts-only entity).
local NO_RESULT = { samples = {}, closes = {}, snapshots = {}, rules = {} }
local function facts_only(req)
  if req.readCurrent or #req.ops == 0 then return false end
  for _, op in ipairs(req.ops) do
    if op.kind ~= 'fact' then return false end
  end
  return true
end

local function apply_facts(base, req)
  local applied_key = base .. ':applied'
  local fkey = base .. ':facts'
  local before = tonumber(redis.call('HGET', applied_key, req.source) or '-1')
  local after = before
  local t = false
  local set, wrote = {}, false
  local statuses = {}
  for i, op in ipairs(req.ops) do
    if op.offset <= before then
      statuses[i] = 'd'
    else
      if op.offset > after then after = op.offset end
      if t == false then t = tonumber(redis.call('GET', base .. ':factst') or '-1') or -1 end
      if op.time < t then
        statuses[i] = 'l'
      else
        t, wrote = op.time, true
        for field, value in pairs(op.facts) do set[field] = cjson.encode(value) end
        statuses[i] = 'a'
      end
    end
  end
  if wrote then
    redis.call('SET', base .. ':factst', num(t), 'PX', FACTS_TTL_MS)
    local args = {}
    for field, value in pairs(set) do
      args[#args + 1] = field
      args[#args + 1] = value
    end
    if #args > 0 then
      redis.call('HSET', fkey, unpack(args))
      redis.call('PEXPIRE', fkey, FACTS_TTL_MS)
    end
  end
  if after > before then
    redis.call('HSET', applied_key, req.source, num(after))
    redis.call('PEXPIRE', applied_key, STATE_TTL_MS)
  end
  return { statuses = table.concat(statuses), samples = NO_RESULT.samples, closes = NO_RESULT.closes,
           snapshots = NO_RESULT.snapshots, rules = NO_RESULT.rules }
end

local function apply(base, req)
  if facts_only(req) then return apply_facts(base, req) end
  return apply_one(base, req)
end

if #KEYS == 1 then
  local r = apply(KEYS[1], cjson.decode(ARGV[1]))
  if r.err then return r end
  return cjson.encode(r)
end
local out = {}
for i = 1, #KEYS do
  local r = apply(KEYS[i], cjson.decode(ARGV[i]))
  if r.err then return r end
  out[i] = r
end
return cjson.encode(out)
