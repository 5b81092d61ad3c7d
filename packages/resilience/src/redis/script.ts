import { luaScript, type LuaScript } from '@infra/core/redis';

/**
 * One atomic decision in one round trip. The clock is Redis's own (TIME), so every instance
 * sharing the store agrees on window boundaries. Same arithmetic as `rate-limit/algorithms.ts`.
 *
 * KEYS[1]: the key's state hash (fields a, b, c); ARGV: algorithm, limit, windowMs, cost.
 * Returns { allowed (0|1), remaining, retryAfterMs, resetMs } as integers (ms rounded up).
 */
export const RATE_LIMIT_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local alg = ARGV[1]
local limit = tonumber(ARGV[2])
local win = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local s = redis.call('HMGET', KEYS[1], 'a', 'b', 'c')
local a = tonumber(s[1])
local b = tonumber(s[2]) or 0
local c = tonumber(s[3]) or 0
local function num(x) return string.format('%.17g', x) end
local allowed, remaining, retry, reset

if alg == 'fixed-window' then
  local start = math.floor(now / win) * win
  local count = 0
  if a == start then count = b end
  reset = start + win - now
  if count + cost <= limit then
    allowed = 1
    count = count + cost
    redis.call('HSET', KEYS[1], 'a', num(start), 'b', num(count), 'c', '0')
    redis.call('PEXPIRE', KEYS[1], math.ceil(reset))
  else
    allowed = 0
  end
  remaining = limit - count
  retry = (allowed == 1) and 0 or reset
elseif alg == 'sliding-window' then
  local start = math.floor(now / win) * win
  local current, previous = 0, 0
  if a == start then
    current = b
    previous = c
  elseif a == start - win then
    previous = b
  end
  local weight = 1 - (now - start) / win
  local estimate = previous * weight + current
  if estimate + cost <= limit then
    allowed = 1
    current = current + cost
    redis.call('HSET', KEYS[1], 'a', num(start), 'b', num(current), 'c', num(previous))
    redis.call('PEXPIRE', KEYS[1], math.ceil(start + 2 * win - now))
    retry = 0
  else
    allowed = 0
    if current + cost <= limit and previous > 0 then
      retry = math.max(0, start + win * (1 - (limit - current - cost) / previous) - now)
    else
      retry = start + win - now
    end
  end
  remaining = math.max(0, math.floor(limit - (previous * weight + current)))
  reset = start + 2 * win - now
else
  local interval = win / limit
  local tat = now
  if a and a > now then tat = a end
  local nxt = tat + cost * interval
  local allowAt = nxt - win
  local kept = tat
  if allowAt <= now then
    allowed = 1
    kept = nxt
    redis.call('HSET', KEYS[1], 'a', num(nxt))
    redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(nxt - now)))
    retry = 0
  else
    allowed = 0
    retry = allowAt - now
  end
  remaining = math.max(0, math.floor((win - (kept - now)) / interval + 1e-9))
  reset = kept - now
end
return { allowed, remaining, math.ceil(retry), math.ceil(reset) }
`;

export const RATE_LIMIT: LuaScript = luaScript(RATE_LIMIT_SCRIPT);
export const RATE_LIMIT_SCRIPT_SHA: string = RATE_LIMIT.sha;
