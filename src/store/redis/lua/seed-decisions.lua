--[[
  Records decisions already published (read back from the offers and decisions topics by
  `cpiwatch rebuild`) in the offer ledger, as published, with what the stateful guardrails count.
  Mirrors src/store/memory/seed-decisions.ts; both pass tests/contract/ledger-seed.contract.ts.

  KEYS[1]  decisions base, e.g. {cpiwatch:d} (suffixes: see src/store/redis/keys.ts)
  ARGV[1]  JSON [LedgerSeed...]  (see src/store/redis/ledger-seed.ts)

  Returns JSON { offered = n, suppressed = n, known = n }: seeded offers, seeded suppressions, and
  seeds whose offer id the ledger already held (left as they are: a seed counts once, however often
  it is given). An offer enters the customer's contact history (cooldowns, frequency cap) and its
  scope's budget period, exactly as decide-offers.lua counts an offer it makes; a suppression is
  only recorded. Either is marked published: when the replay decides the same offer id again, it is
  a replay and is not published again.
]]
local base = KEYS[1]
local seeds = cjson.decode(ARGV[1])
local function num(x) return string.format('%.17g', x) end

local offered, suppressed, known = 0, 0, 0
for _, s in ipairs(seeds) do
  local ledger = base .. ':offer:' .. s.offerId
  if redis.call('EXISTS', ledger) == 1 then
    known = known + 1
  else
    if s.outcome == 'offered' then
      local hist = base .. ':hist:' .. s.customer
      redis.call('ZADD', hist, num(s.time), s.offerId .. '|' .. s.ruleId)
      if redis.call('PTTL', hist) < s.retainMs then redis.call('PEXPIRE', hist, s.retainMs) end
      if s.budgetPerMs then
        local budget_key = base .. ':budget:' .. s.ruleId .. ':' .. s.scopeTag .. ':' .. num(math.floor(s.time / s.budgetPerMs))
        redis.call('INCR', budget_key)
        redis.call('PEXPIRE', budget_key, s.budgetPerMs * 2)
      end
      redis.call('HSET', ledger, 'outcome', 'offered', 'reason', '', 'published', '1', 'src', s.source or '')
      offered = offered + 1
    else
      redis.call('HSET', ledger, 'outcome', 'suppressed', 'reason', s.reason or '', 'published', '1', 'src', s.source or '')
      suppressed = suppressed + 1
    end
    redis.call('PEXPIRE', ledger, s.retainMs)
  end
end
return cjson.encode({ offered = offered, suppressed = suppressed, known = known })
