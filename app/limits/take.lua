-- Portico rate limits (app/limits/redis_store.py): take from every item, or from none.
-- KEYS[i]: the item's key. ARGV[1]: now (epoch seconds, float). Then 4 values per item:
--   "b", rate (tokens per second), burst, want  -- a token bucket, hash {t = tokens, u = updated}
--   "c", limit, window_end (epoch seconds), 1   -- a quota window, a counter
-- Admitted when every item has one token / count left (want > 1 never changes that); then a bucket
-- gives min(want, whole tokens it holds) -- the caller's lease (app/limits/lease.py) -- a counter 1.
-- Returns {0, "0", given_1, ..., given_n} when admitted, else {i, wait_seconds} for the item with the
-- longest wait.
local now = tonumber(ARGV[1])
local levels = {}
local worst, worst_wait = 0, 0
for i = 1, #KEYS do
  local kind, a, b = ARGV[4 * i - 2], tonumber(ARGV[4 * i - 1]), tonumber(ARGV[4 * i])
  local wait = 0
  if kind == "b" then
    local state = redis.call("HMGET", KEYS[i], "t", "u")
    local tokens, updated = tonumber(state[1]), tonumber(state[2])
    if tokens == nil or updated == nil then
      tokens, updated = b, now
    end
    tokens = math.min(b, tokens + math.max(0, now - updated) * a)
    if tokens < 1 then wait = (1 - tokens) / a end
    levels[i] = tokens
  else
    local count = tonumber(redis.call("GET", KEYS[i]) or "0")
    if count >= a then wait = b - now end
    levels[i] = count
  end
  if wait > worst_wait then worst, worst_wait = i, wait end
end
if worst > 0 then
  return {worst, tostring(worst_wait)}
end
local answer = {0, "0"}
for i = 1, #KEYS do
  local kind, a, b = ARGV[4 * i - 2], tonumber(ARGV[4 * i - 1]), tonumber(ARGV[4 * i])
  if kind == "b" then
    local given = math.max(1, math.min(tonumber(ARGV[4 * i + 1]), math.floor(levels[i])))
    redis.call("HSET", KEYS[i], "t", tostring(levels[i] - given), "u", tostring(now))
    -- absent is the same as full: the key lives as long as a refill to burst takes
    redis.call("PEXPIRE", KEYS[i], math.ceil(b / a * 1000) + 1000)
    answer[i + 2] = given
  else
    redis.call("INCR", KEYS[i])
    redis.call("PEXPIRE", KEYS[i], math.max(1000, math.ceil((b - now) * 1000) + 1000))
    answer[i + 2] = 1
  end
end
return answer
