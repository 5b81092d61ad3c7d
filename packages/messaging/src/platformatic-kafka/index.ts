export { PlatformaticKafkaAdapter, createPlatformaticKafkaAdapter } from './platformatic-adapter.js';
export type { PlatformaticKafkaAdapterOptions } from './platformatic-adapter.js';
