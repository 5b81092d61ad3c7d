import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/** A Lua script and its SHA1, for EVALSHA. */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

/** A script, hashed once. */
export function luaScript(source: string): LuaScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** The part of an ioredis client (or cluster) that {@link evalScript} uses. */
export type ScriptClient = Pick<Redis | Cluster, 'evalsha' | 'eval'>;

/**
 * Runs `script` in one round trip: EVALSHA, falling back to EVAL (which also caches the script on
 * the server) only when the server answers NOSCRIPT, as after a restart or SCRIPT FLUSH.
 */
export async function evalScript(
  client: ScriptClient,
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
