export { isSentryInitialized, loadSentry, sentryTransport } from './transport.js';
export type { SentryLike, SentryScopeLike, SentryTransport, SentryTransportOptions } from './transport.js';
