import type { Logger } from '@infra/core';

/**
 * The logger every monitor takes: {@link Logger} from `@infra/core`, which a pino logger satisfies.
 * @deprecated Use `Logger` from `@infra/core`; this name stays for one minor version.
 */
export type MonitorLogger = Logger;
