--[[
  Takes offer candidates through the offer ledger and the stateful guardrails, in order, atomically.
  Mirrors src/store/memory/decide.ts; both pass tests/contract/state-store.contract.ts.

  KEYS[1]  decisions base, e.g. {cpiwatch:d} (suffixes: see src/store/redis/keys.ts)
  ARGV[1]  JSON [OfferCandidate...]  (see src/store/state-store.ts)

  Returns JSON [ { offerId, outcome: "offered"|"suppressed", reason?, replay: bool, published: bool } ]
  Steps per candidate: a decision already in the ledger is returned as it is (replay; marked published
  when another source decided it, since that source publishes it); else the first
  of presuppressed, rule cooldown, customer cooldown, frequency cap, budget that applies suppresses it
  (cooldowns and the cap both ways in event time, so they hold in any order of decision);
  else it is offered and counted in the customer's history and the scope's budget.
]]
local base = KEYS[1]
local candidates = cjson.decode(ARGV[1])
local function num(x) return string.format('%.17g', x) end

local out = {}
for i, c in ipairs(candidates) do
  local ledger = base .. ':offer:' .. c.offerId
  local stored = redis.call('HMGET', ledger, 'outcome', 'reason', 'published', 'src')
  if stored[1] then
    -- another source decided it first: publishing it is that source's job (its journal covers a crash)
    local elsewhere = stored[4] and stored[4] ~= '' and c.source and stored[4] ~= c.source
    local v = { offerId = c.offerId, outcome = stored[1], replay = true, published = stored[3] == '1' or elsewhere == true }
    if stored[2] and stored[2] ~= '' then v.reason = stored[2] end
    out[i] = v
  else
    local hist = base .. ':hist:' .. c.customer
    redis.call('ZREMRANGEBYSCORE', hist, '-inf', '(' .. num(c.time - c.retainMs))
    local reason = c.presuppressed
    -- cooldowns and the cap look both ways in event time: an offer decided earlier may lie later
    if not reason and c.ruleCooldownMs then
      local near = redis.call('ZRANGEBYSCORE', hist, '(' .. num(c.time - c.ruleCooldownMs), '(' .. num(c.time + c.ruleCooldownMs))
      local suffix = '|' .. c.ruleId
      for _, m in ipairs(near) do
        if string.sub(m, -#suffix) == suffix then reason = 'cooldown' break end
      end
    end
    if not reason and c.customerCooldownMs then
      if redis.call('ZCOUNT', hist, '(' .. num(c.time - c.customerCooldownMs), '(' .. num(c.time + c.customerCooldownMs)) > 0 then
        reason = 'customer-cooldown'
      end
    end
    if not reason and c.frequencyCap then
      -- some window (e - perMs, e] holding c.time already holds max offers
      local per, max = c.frequencyCap.perMs, c.frequencyCap.max
      local later = redis.call('ZRANGEBYSCORE', hist, num(c.time), '(' .. num(c.time + per), 'WITHSCORES')
      local ends = { c.time }
      for j = 2, #later, 2 do ends[#ends + 1] = tonumber(later[j]) end
      for _, e in ipairs(ends) do
        if redis.call('ZCOUNT', hist, '(' .. num(e - per), num(e)) >= max then reason = 'frequency-cap' break end
      end
    end
    local budget_key
    if c.budget then
      budget_key = base .. ':budget:' .. c.ruleId .. ':' .. c.scopeTag .. ':' .. num(math.floor(c.time / c.budget.perMs))
      if not reason and tonumber(redis.call('GET', budget_key) or '0') >= c.budget.max then reason = 'budget' end
    end
    if reason then
      redis.call('HSET', ledger, 'outcome', 'suppressed', 'reason', reason, 'published', '0', 'src', c.source or '')
      out[i] = { offerId = c.offerId, outcome = 'suppressed', reason = reason, replay = false, published = false }
    else
      redis.call('ZADD', hist, num(c.time), c.offerId .. '|' .. c.ruleId)
      redis.call('PEXPIRE', hist, c.retainMs)
      if budget_key then
        redis.call('INCR', budget_key)
        redis.call('PEXPIRE', budget_key, c.budget.perMs * 2)
      end
      redis.call('HSET', ledger, 'outcome', 'offered', 'reason', '', 'published', '0', 'src', c.source or '')
      out[i] = { offerId = c.offerId, outcome = 'offered', replay = false, published = false }
    end
    redis.call('PEXPIRE', ledger, c.retainMs)
  end
end
return cjson.encode(out)
