import { RetryPolicy, defaultShouldRetry } from '@infra/resilience';
import { assertSchema, type PayloadSchema } from './schema.js';
import { fn, integer, nonEmptyString, nonNegative, oneOf, plainObject, topicName } from './validate.js';

/** Handler retries. Delays follow `RetryPolicy` of @infra/resilience (exponential, jittered). */
export interface HandlerRetryOptions {
  /** Handler runs in all, the first included; then the message is dead-lettered. @default 3 */
  maxAttempts?: number;
  /** Delay before the first retry (ms). @default 100 */
  initialDelayMs?: number;
  /** Upper bound of a delay (ms). @default 10_000 */
  maxDelayMs?: number;
  /** @default 'full' */
  jitter?: 'full' | 'decorrelated' | 'none';
  /**
   * Whether an error is worth another attempt. @default every error but those with
   * `isRetryable: false` (which go to the dead-letter topic at once)
   */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
}

export interface SubscribeOptions {
  /** Consumer group: subscriptions in one group share the messages. @default the bus's `group` */
  group?: string;
  /** Name of this consumer within its group. @default `<host>-<pid>-<random>` */
  consumerName?: string;
  /** Handlers running at once. Messages with one key still run one at a time, in order. @default 1 */
  concurrency?: number;
  /** Messages fetched and not finished, at most (back-pressure); at least `concurrency`. @default 100 */
  maxInFlight?: number;
  /** @default the bus's `retry` */
  retry?: HandlerRetryOptions;
  /** Where failed messages go; `false` drops them (reported by the `deadLettered` event). @default `<topic>.dlq` */
  deadLetterTopic?: string | false;
  /**
   * Checks each payload before the handler; a rejected message is dead-lettered. @default the bus's schema of the topic
   */
  schema?: PayloadSchema;
  /** Where a new group starts, on adapters that can replay. @default 'latest' */
  startFrom?: 'latest' | 'earliest';
  /** How long `close()` waits for running handlers (ms). @default the bus's `closeTimeoutMs` */
  closeTimeoutMs?: number;
}

export interface ResolvedSubscribeOptions {
  group: string;
  consumerName: string;
  concurrency: number;
  maxInFlight: number;
  /** Runs the handler: attempts, backoff with jitter, which errors are retried. */
  retry: RetryPolicy;
  deadLetterTopic: string | null;
  schema: PayloadSchema | undefined;
  startFrom: 'latest' | 'earliest';
  closeTimeoutMs: number;
}

export interface SubscribeDefaults {
  group: string;
  consumerName: string;
  concurrency: number;
  maxInFlight: number;
  retry: HandlerRetryOptions;
  deadLetterTopic: (topic: string) => string | null;
  closeTimeoutMs: number;
}

export function resolveRetry(
  option: string,
  retry: HandlerRetryOptions,
): Required<Omit<HandlerRetryOptions, 'shouldRetry'>> & Pick<HandlerRetryOptions, 'shouldRetry'> {
  plainObject(option, retry);
  return {
    maxAttempts: integer(`${option}.maxAttempts`, retry.maxAttempts ?? 3),
    initialDelayMs: nonNegative(`${option}.initialDelayMs`, retry.initialDelayMs ?? 100),
    maxDelayMs: nonNegative(`${option}.maxDelayMs`, retry.maxDelayMs ?? 10_000),
    jitter: oneOf(`${option}.jitter`, retry.jitter ?? 'full', ['full', 'decorrelated', 'none']),
    shouldRetry:
      retry.shouldRetry === undefined ? undefined : fn(`${option}.shouldRetry`, retry.shouldRetry, 'INVALID_OPTION'),
  };
}

export function resolveSubscribeOptions(
  topic: string,
  options: SubscribeOptions,
  defaults: SubscribeDefaults,
  busSchema: PayloadSchema | undefined,
): ResolvedSubscribeOptions {
  plainObject('options', options, 'INVALID_ARGUMENT');
  const concurrency = integer('concurrency', options.concurrency ?? defaults.concurrency);
  const maxInFlight = integer('maxInFlight', options.maxInFlight ?? Math.max(defaults.maxInFlight, concurrency));
  if (maxInFlight < concurrency) integer('maxInFlight', maxInFlight, concurrency);
  const retry = resolveRetry('retry', { ...defaults.retry, ...options.retry });
  const deadLetterTopic =
    options.deadLetterTopic === undefined
      ? defaults.deadLetterTopic(topic)
      : options.deadLetterTopic === false
        ? null
        : topicName('deadLetterTopic', options.deadLetterTopic, 'INVALID_OPTION');
  return {
    group: nonEmptyString('group', options.group ?? defaults.group),
    consumerName: nonEmptyString(
      'consumerName',
      options.consumerName ?? `${defaults.consumerName}-${(++sequence).toString(36)}`,
    ),
    concurrency,
    maxInFlight,
    retry: new RetryPolicy({
      maxAttempts: retry.maxAttempts,
      initialDelayMs: retry.initialDelayMs,
      maxDelayMs: retry.maxDelayMs,
      jitter: retry.jitter,
      shouldRetry: retry.shouldRetry ?? defaultShouldRetry,
    }),
    deadLetterTopic,
    schema: options.schema === undefined ? busSchema : assertSchema('schema', options.schema),
    startFrom: oneOf('startFrom', options.startFrom ?? 'latest', ['latest', 'earliest']),
    closeTimeoutMs: nonNegative('closeTimeoutMs', options.closeTimeoutMs ?? defaults.closeTimeoutMs),
  };
}

let sequence = 0;
