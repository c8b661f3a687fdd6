-- Renew reservations still in flight: their owner is alive and has not committed yet.
--
-- KEYS[1]: the organization's reservations in flight (sorted set, see reserve.lua);
-- ARGV[1]: the lease, ms; ARGV[2..]: reservation ids. Only ids still present are
-- renewed (XX): one settled, or cleared by a rebuild, stays gone. Returns how many.

local now = redis.call('TIME')
local deadline = string.format(
  '%d', tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) + tonumber(ARGV[1])
)
local renewed = 0
for i = 2, #ARGV do
  renewed = renewed + redis.call('ZADD', KEYS[1], 'XX', 'CH', deadline, ARGV[i])
end
return renewed
