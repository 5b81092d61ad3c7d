export { closedPort, databaseUrl, eventually, redisUrl, uniqueName } from './services.js';
export { rateLimiterStoreContract, type RateLimiterStoreContractOptions } from './rate-limiter-store-contract.js';
