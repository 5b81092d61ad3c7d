import { luaScript, type LuaScript } from '@infra/core/redis';

/**
 * The GCRA of `rate-limit/gcra.ts` in Lua: one round trip, atomic, on Redis's own clock (TIME) so
 * that every instance agrees. KEYS[1] is a hash with fields r (request TAT) and t (token TAT).
 */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local win = tonumber(ARGV[1])
local rlimit = tonumber(ARGV[2])
local tlimit = tonumber(ARGV[3])
local s = redis.call('HMGET', KEYS[1], 'r', 't')
local r = tonumber(s[1]) or now
local tk = tonumber(s[2]) or now
local function num(x) return string.format('%.17g', x) end
`;

/** ARGV: windowMs, requests, tokens, cost. Returns { allowed, retryAfterMs (ceil), scope 0|1|2 }. */
const ACQUIRE_SCRIPT: string = `${PRELUDE}
local cost = tonumber(ARGV[4])
local waitR, waitT = 0, 0
local nr, nt = r, tk
if rlimit > 0 then
  nr = math.max(r, now) + win / rlimit
  waitR = math.max(0, nr - win - now)
end
if tlimit > 0 and cost > 0 then
  nt = math.max(tk, now) + math.min(cost, tlimit) * win / tlimit
  waitT = math.max(0, nt - win - now)
end
if waitR == 0 and waitT == 0 then
  redis.call('HSET', KEYS[1], 'r', num(nr), 't', num(nt))
  redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil(math.max(nr, nt) - now)))
  return { 1, 0, 0 }
end
local scope = 2
if waitR >= waitT then scope = 1 end
return { 0, math.ceil(math.max(waitR, waitT)), scope }
`;

/** ARGV: windowMs, requests, tokens, delta. Moves the token TAT; a refund never passes "full". */
const ADJUST_SCRIPT: string = `${PRELUDE}
local delta = tonumber(ARGV[4])
if tlimit <= 0 or delta == 0 then return 0 end
local nt = math.max(now, math.max(tk, now) + delta * win / tlimit)
redis.call('HSET', KEYS[1], 'r', num(r), 't', num(nt))
local ttl = math.ceil(math.max(r, nt) - now)
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) else redis.call('DEL', KEYS[1]) end
return 1
`;

export const ACQUIRE: LuaScript = luaScript(ACQUIRE_SCRIPT);
export const ADJUST: LuaScript = luaScript(ADJUST_SCRIPT);
