-- Check-and-reserve: decide one organization's batch of usage events against its
-- counters and count the accepted ones, atomically (Redis runs one script at a time).
--
-- The comparisons repeat the Python rules on thresholds Python computed from them
-- (store/counters/script.py, `compile_payload`), so this script only compares and adds:
--   cap        used <= floor(cap_for(limit, enforcement) - amount)    (decide_cap)
--   release    used >= -amount                                        (releasable)
--   credits    event_credits at the two ends of the free allowance; in between the
--              answer needs a product, so the script pauses and Python computes it
--   draw       draw_credits over the pools Python ordered with draw_order
-- tests/store/test_counter_script.py compares every decision with the Python rules.
--
-- KEYS[1]: the organization's counters (hash; fields in store/counters/__init__.py,
--          plus `v` the SQL counters_version and `g` the generation)
-- KEYS[2]: idempotency keys reserved and not yet committed (hash: key -> until, ms)
-- KEYS[3]: reservations in flight (sorted set: reservation id, scored by the deadline
--          in ms by which its owner must renew it; it dies with its owner)
-- ARGV[1]: 'reserve' (count) or 'check' (decide only); ARGV[2]: the version the
--          caller read from SQL; ARGV[3]: the batch as JSON (`_Payload.encode`):
--          fields, loads, keys, pool sets, templates, events {key, template},
--          expected prices of paused events, watched fields, advance, claim ms;
--          ARGV[4]: this reservation's id; ARGV[5]: its lease, ms
-- Returns JSON: {s='ok', g=generation, r=runs, w=watched} where a run is {count,
-- decision}: that many consecutive events decided alike, drawing from one pool set
-- (most of a bulk batch is one run), and a decision is {'a', credits, free units, {{pool,
-- amount}...}}, {'d'} or {'x', check, used, credits};
-- or {s='stale'}, {s='missing', f=fields}, {s='busy', k=keys}, {s='pause', i=event,
-- u=used}. Nothing is counted unless the answer is 'ok'.
--
-- A reservation past its deadline belongs to a process that died between reserving
-- and committing (or stalled for seconds): whether its write committed is unknown,
-- so the counters are 'stale' and rebuilt from SQL under the exclusive row lock,
-- which waits for every writer still in flight. An accepted batch adds its own
-- reservation, removed by its settle or release (release.lua).

local counting = ARGV[1] == 'reserve'

-- HMGET and HSET in slices: unpack() passes at most a few thousand values at once.
local SLICE = 2000
local function hmget(key, fields)
  local out = {}
  for first = 1, #fields, SLICE do
    local last = math.min(first + SLICE - 1, #fields)
    local part = redis.call('HMGET', key, unpack(fields, first, last))
    for i = 1, last - first + 1 do
      out[first + i - 1] = part[i]
    end
  end
  return out
end
local function hset(key, pairs_)
  for first = 1, #pairs_, SLICE do
    redis.call('HSET', key, unpack(pairs_, first, math.min(first + SLICE - 1, #pairs_)))
  end
end

local meta = redis.call('HMGET', KEYS[1], 'v', 'g')
if meta[1] ~= ARGV[2] or not meta[2] then
  return cjson.encode({s = 'stale'})
end
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
if redis.call('ZCOUNT', KEYS[3], '-inf', now) > 0 then
  return cjson.encode({s = 'stale'})
end
local batch = cjson.decode(ARGV[3])

-- Every field the batch touches; loads fill the absent ones (when counting, for good).
local names, value, loaded, missing = batch.f, {}, {}, {}
local held = hmget(KEYS[1], names)
for i, name in ipairs(names) do
  local raw = held[i] or batch.l[name]
  if raw then
    value[i] = num(raw)
    if not held[i] then
      loaded[#loaded + 1] = name
      loaded[#loaded + 1] = raw
    end
  else
    missing[#missing + 1] = name
  end
end
if counting and #loaded > 0 then
  hset(KEYS[1], loaded)
end
if #missing > 0 then
  return cjson.encode({s = 'missing', f = missing})
end

if counting and #batch.k > 0 then
  local busy, until_ms = {}, hmget(KEYS[2], batch.k)
  for i, key in ipairs(batch.k) do
    if until_ms[i] and tonumber(until_ms[i]) > now then
      busy[#busy + 1] = key
    end
  end
  if #busy > 0 then
    return cjson.encode({s = 'busy', k = busy})
  end
end

local watched = {}
for i, field in ipairs(batch.w) do
  watched[i] = str(value[field])
end

-- Templates: what events of one shape check and add, their amounts parsed once.
-- template: {denied, checks, charge or false, adds}
--   check:  {field, 'max' | 'min', bound, index in the plan}
--   charge: {field, low, high, credits and free at or below low, at or above high,
--            pool set or 0, index of the charge in the plan}
--   add:    {field, amount}
local pool_sets = {}
for p, pools in ipairs(batch.P) do
  pool_sets[p] = {}
  for j, pool in ipairs(pools) do
    pool_sets[p][j] = {pool[1], num(pool[2])}
  end
end
local templates = {}
for t, raw in ipairs(batch.T) do
  local checks, adds, charge = {}, {}, false
  for c, check in ipairs(raw[2]) do
    checks[c] = {check[1], check[2] == 'max', num(check[3]), check[4]}
  end
  for a, addition in ipairs(raw[4]) do
    adds[a] = {addition[1], num(addition[2])}
  end
  if raw[3] then
    local c = raw[3]
    charge = {
      field = c[1], low = c[2] and num(c[2]), high = c[3] and num(c[3]),
      low_credits = c[4], low_free = c[5], high_credits = c[6], high_free = c[7],
      pools = c[8], index = c[9],
    }
  end
  templates[t] = {raw[1], checks, charge, adds}
end

-- The credits of an event and its free units, or nil (pause) when its usage falls
-- inside the free allowance and Python has not priced that usage yet.
local function price(charge, used, expected)
  if not charge.low or cmp(used, charge.low) <= 0 then
    return charge.low_credits, charge.low_free
  end
  if cmp(used, charge.high) >= 0 then
    return charge.high_credits, charge.high_free
  end
  if expected and cmp(used, num(expected[1])) == 0 then
    return expected[2], expected[3]
  end
  return nil
end

-- Draw `need` from the pools in order: {{pool, field, amount}...}, or nil and what
-- they hold. Balances are granted - spent, never below zero.
local function draw(pools, need)
  local balances, total = {}, 0
  for j, pool in ipairs(pools) do
    local balance = add(pool[2], neg(value[pool[1]]))
    if cmp(balance, 0) < 0 then
      balance = 0
    end
    balances[j] = balance
    total = add(total, balance)
  end
  if cmp(total, need) < 0 then
    return nil, total
  end
  local draws, left = {}, need
  for j, pool in ipairs(pools) do
    if cmp(left, 0) <= 0 then
      break
    end
    if cmp(balances[j], 0) > 0 then
      local take = cmp(balances[j], left) < 0 and balances[j] or left
      draws[#draws + 1] = {j - 1, pool[1], take}
      left = add(left, neg(take))
    end
  end
  return draws
end

-- Whether two decisions say the same (their events then share one run).
local function same(a, b)
  if a[1] ~= b[1] or a[2] ~= b[2] or a[3] ~= b[3] then
    return false
  end
  if a[1] ~= 'a' then
    return a[4] == b[4]
  end
  local x, y = a[4], b[4]
  if #x ~= #y then
    return false
  end
  for i = 1, #x do
    if x[i][1] ~= y[i][1] or x[i][2] ~= y[i][2] then
      return false
    end
  end
  return true
end

local taken, runs, changed = {}, {}, {}
local run, run_pools = nil, nil
local accepted_any = false
for e, event in ipairs(batch.e) do
  -- event: {key or false, template}
  local key, template, decision = event[1], templates[event[2]], nil
  if key and taken[key] then
    decision = {'d'}
  elseif template[1] then
    decision = {'x', -1, '0', '0'}
  else
    for _, check in ipairs(template[2]) do
      local order = cmp(value[check[1]], check[3])
      if (check[2] and order > 0) or (not check[2] and order < 0) then
        decision = {'x', check[4], str(value[check[1]]), '0'}
        break
      end
    end
    local credits, free, draws = '0', '0', {}
    local charge = template[3]
    if not decision and charge then
      local used = value[charge.field]
      credits, free = price(charge, used, batch.x[tostring(e - 1)])
      if not credits then
        return cjson.encode({s = 'pause', i = e - 1, u = str(used)})
      end
      if charge.pools ~= 0 and cmp(num(credits), 0) > 0 then
        local found, total = draw(pool_sets[charge.pools], num(credits))
        if found then
          draws = found
        else
          decision = {'x', charge.index, str(total), credits}
        end
      end
    end
    if not decision then
      for _, addition in ipairs(template[4]) do
        value[addition[1]] = add(value[addition[1]], addition[2])
        changed[addition[1]] = true
      end
      local reported = {}
      for d, found in ipairs(draws) do
        value[found[2]] = add(value[found[2]], found[3])
        changed[found[2]] = true
        reported[d] = {found[1], str(found[3])}
      end
      if key then
        taken[key] = true
      end
      accepted_any = true
      decision = {'a', credits, free, reported}
    end
  end
  -- A decision's pool numbers index its template's pool set: a run keeps to one.
  local pools = template[3] and template[3].pools or 0
  if run and run_pools == pools and same(run[2], decision) then
    run[1] = run[1] + 1
  else
    run, run_pools = {1, decision}, pools
    runs[#runs + 1] = run
  end
end

if counting and accepted_any then
  local writes = {}
  for field in pairs(changed) do
    writes[#writes + 1] = names[field]
    writes[#writes + 1] = str(value[field])
  end
  if batch.a then
    writes[#writes + 1] = 'v'
    writes[#writes + 1] = string.format('%d', tonumber(ARGV[2]) + 1)
  end
  hset(KEYS[1], writes)
  local claims = {}
  for key in pairs(taken) do
    claims[#claims + 1] = key
    claims[#claims + 1] = now + batch.t
  end
  if #claims > 0 then
    hset(KEYS[2], claims)
    redis.call('PEXPIRE', KEYS[2], batch.t)
  end
  redis.call('ZADD', KEYS[3], string.format('%d', now + tonumber(ARGV[5])), ARGV[4])
  -- Expires with the counters, never before: a dead reservation must be seen for as
  -- long as the counters it inflated.
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then
    redis.call('PEXPIRE', KEYS[3], ttl)
  end
end
return cjson.encode({s = 'ok', g = meta[2], r = runs, w = watched})
