import { luaScript, type LuaScript } from '@infra/core/redis';

/** A Lua script run with EVALSHA, falling back to EVAL once when the server has not cached it. */
export type Script = LuaScript;

/**
 * SET with tags: KEYS[1] value key, KEYS[2..] tag sets; ARGV[1] record, ARGV[2] PX ms (0: none).
 * A tag set lives as long as its longest-lived member so that it never outlives them for long.
 */
export const SET_TAGGED: Script = luaScript(`
local ms = tonumber(ARGV[2])
if ms > 0 then redis.call('SET', KEYS[1], ARGV[1], 'PX', ms) else redis.call('SET', KEYS[1], ARGV[1]) end
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  local ttl = redis.call('PTTL', KEYS[i])
  if ms == 0 then
    redis.call('PERSIST', KEYS[i])
  elseif ttl ~= -1 or redis.call('SCARD', KEYS[i]) == 1 then
    if ttl < ms then redis.call('PEXPIRE', KEYS[i], ms) end
  end
end
return 1
`);

/**
 * Deletes the members of tag set KEYS[1] still written with tag ARGV[1] (a key re-set without
 * the tag survives), then the tag set. Record layout: "<freshUntil>\\n<tags JSON>\\n<payload>".
 */
export const DELETE_TAGGED: Script = luaScript(`
local removed = 0
for _, key in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local record = redis.call('GET', key)
  if record then
    local first = string.find(record, '\\n', 1, true)
    local second = first and string.find(record, '\\n', first + 1, true)
    if second and second > first + 1 then
      local tags = cjson.decode(string.sub(record, first + 1, second - 1))
      for _, tag in ipairs(tags) do
        if tag == ARGV[1] then
          removed = removed + redis.call('DEL', key)
          break
        end
      end
    end
  end
end
redis.call('DEL', KEYS[1])
return removed
`);

/** Deletes lock KEYS[1] only if it still holds token ARGV[1]. */
export const RELEASE_LOCK: Script = luaScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`);
