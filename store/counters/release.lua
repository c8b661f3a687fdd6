-- Take back a reservation whose SQL write failed, or (no deltas) settle a committed one.
--
-- KEYS[1]: the organization's counters, KEYS[2]: its reserved idempotency keys,
-- KEYS[3]: its reservations in flight; ARGV[1]: the generation the reservation was
-- made in; ARGV[2]: JSON {d = {{field, delta}...}, k = {keys}, l = reservation id or
-- false}. The keys and the reservation are always freed; the deltas are taken back
-- only from the same generation: a rebuilt generation was loaded from SQL, where the
-- failed write never arrived. Returns 1 when the deltas were taken back.

local reservation = cjson.decode(ARGV[2])
if reservation.l then
  redis.call('ZREM', KEYS[3], reservation.l)
end
for first = 1, #reservation.k, 2000 do
  local last = math.min(first + 1999, #reservation.k)
  redis.call('HDEL', KEYS[2], unpack(reservation.k, first, last))
end
if redis.call('HGET', KEYS[1], 'g') ~= ARGV[1] then
  return 0
end
for _, delta in ipairs(reservation.d) do
  local held = redis.call('HGET', KEYS[1], delta[1])
  if held then
    redis.call('HSET', KEYS[1], delta[1], str(add(num(held), neg(num(delta[2])))))
  end
end
return 1
