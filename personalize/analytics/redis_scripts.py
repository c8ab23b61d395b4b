"""The Lua scripts of the Redis counter store (:mod:`personalize.analytics.redis_store`).

Each script runs as ONE command, atomically: a request's counts land together or not at all, and
the client sends a single command per request.
"""

#: Rename a day's hash to a batch and index the batch, atomically (KEYS: day hash, batch hash,
#: days set, batches set; ARGV: day, batch id, TTL of the batches set).
START_BATCH = """
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[1])
  return 0
end
redis.call('RENAME', KEYS[1], KEYS[2])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[2])
redis.call('EXPIRE', KEYS[4], ARGV[3])
return 1
"""


#: Add a request's counters to the day's hash and index the day, atomically, as ONE command
#: (KEYS: day hash, days set; ARGV: TTL, day, then field, increment pairs). A request's counts
#: land in the same batch or none, and the client sends a single command.
ADD = """
for i = 3, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
if redis.call('SADD', KEYS[2], ARGV[2]) == 1 then
  redis.call('EXPIRE', KEYS[2], ARGV[1])
end
return 1
"""


#: Everything one request counts, as ONE command. KEYS: day hash, days set, visitor hash, epoch,
#: the day's sample hash, then one HyperLogLog per matched segment. ARGV: day TTL, day, visitor
#: TTL, time of first exposure, unique TTL, number of counter pairs, number of exposures, marker
#: field ('' none), visitor id, new epoch, the page view's snapshot ('' none), its random draw,
#: the sample's size, the sample's TTL, then the counter pairs, then the exposures' dimensions.
#: The sample is a reservoir (Algorithm R, :func:`~personalize.analytics.counters.reservoir_slot`):
#: field ``n`` counts the page views offered, the n-th takes slot n while the sample has room,
#: later ones replace slot ``floor(draw * n) + 1`` when it is at most the size.
RECORD = """
local pairs, exposures = tonumber(ARGV[6]), tonumber(ARGV[7])
local i = 15
for _ = 1, pairs do
  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
  i = i + 2
end
for _ = 1, exposures do
  if redis.call('HSETNX', KEYS[3], 'seen|' .. ARGV[i], ARGV[4]) == 1 then
    redis.call('HINCRBY', KEYS[1], 'exp|' .. ARGV[i], 1)
  end
  i = i + 1
end
if ARGV[8] ~= '' and redis.call('HSETNX', KEYS[3], ARGV[8], '1') == 1 then
  for k = 6, #KEYS do
    redis.call('PFADD', KEYS[k], ARGV[9])
    redis.call('EXPIRE', KEYS[k], ARGV[5])
  end
end
if exposures > 0 or ARGV[8] ~= '' then
  redis.call('EXPIRE', KEYS[3], ARGV[3])
end
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('EXPIRE', KEYS[1], ARGV[1])
  if redis.call('SADD', KEYS[2], ARGV[2]) == 1 then
    redis.call('EXPIRE', KEYS[2], ARGV[1])
  end
end
if ARGV[11] ~= '' then
  local seen, size = redis.call('HINCRBY', KEYS[5], 'n', 1), tonumber(ARGV[13])
  local slot = seen
  if seen > size then
    slot = math.floor(tonumber(ARGV[12]) * seen) + 1
  end
  if slot <= size then
    redis.call('HSET', KEYS[5], tostring(slot), ARGV[11])
  end
  redis.call('EXPIRE', KEYS[5], ARGV[14])
end
redis.call('SET', KEYS[4], ARGV[10], 'NX')
return 1
"""
