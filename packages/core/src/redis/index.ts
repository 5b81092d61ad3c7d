export { evalScript, luaScript } from './lua.js';
export type { LuaScript, ScriptClient } from './lua.js';
export {
  RedisNotReadyError,
  closeClient,
  createRedisClient,
  duplicateClient,
  failFastOptions,
  isCluster,
  whenReady,
} from './client.js';
export type { CreateRedisClientOptions, RedisClient, RedisConnection } from './client.js';
