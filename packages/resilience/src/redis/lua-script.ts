import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** A Lua script and its SHA1, for EVALSHA. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

export function luaScript(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * Runs `script` in one round trip: EVALSHA, falling back to EVAL (which also caches the script)
 * only when the server answers NOSCRIPT, e.g. after a restart or SCRIPT FLUSH.
 */
export async function evalScript(
  client: Pick<Redis | Cluster, 'evalsha' | 'eval'>,
  script: LuaScript,
  keys: readonly string[],
  args: readonly (string | Buffer | number)[],
): Promise<unknown> {
  try {
    return await (client as Pick<Redis, 'evalsha'>).evalsha(script.sha, keys.length, ...keys, ...args);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
    return await (client as Pick<Redis, 'eval'>).eval(script.source, keys.length, ...keys, ...args);
  }
}
