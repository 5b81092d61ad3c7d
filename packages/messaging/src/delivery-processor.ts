import { activeSpan, addSpanEvent, sleep, type EventHub } from '@infra/core';
import type { Delivery, WireMessage } from './adapter.js';
import { runHandler, type MessageContext } from './context.js';
import { MessageHeaders, type MessageEnvelope } from './envelope.js';
import { MessagingError, errorMessage } from './errors.js';
import type { DeadLetterReason, MessagingEvents } from './events.js';
import { checkPayload } from './schema.js';
import type { Serializer } from './serializer.js';
import type { ResolvedSubscribeOptions } from './subscribe-options.js';
import { processSpan } from './tracing.js';

/** A message handed to a handler: the envelope and where it stands. */
export interface ReceivedMessage<T = unknown> extends MessageEnvelope<T> {
  /** 1-based handler attempt within this delivery. */
  readonly attempt: number;
  /** 1 on first delivery; more when an earlier delivery was not acknowledged (consumer died). */
  readonly deliveryCount: number;
  readonly group: string;
  readonly correlationId: string;
  readonly traceparent: string | undefined;
  /** Aborts when the subscription closes and its drain deadline has passed. */
  readonly signal: AbortSignal;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- handlers are written against their own payload type
export type MessageHandler<T = any> = (payload: T, message: ReceivedMessage<T>) => unknown;

export interface ProcessorHost {
  /** `messaging.system` of the spans. */
  readonly system: string;
  readonly serializer: Serializer;
  readonly events: EventHub<MessagingEvents>;
  /** Publishes prepared messages through the bus (dead letters), also while the bus drains on close. */
  publishPrepared(messages: readonly WireMessage[]): Promise<unknown>;
}

export interface ProcessorCounters {
  handled: number;
  retried: number;
  deadLettered: number;
}

/** What became of a delivery: acknowledge it, or leave it for redelivery (closing, or the dead letter failed). */
export type Outcome = 'ack' | 'leave';

type Stage<T> = { ok: true; value: T } | { ok: false; error: unknown; reason: DeadLetterReason };

/**
 * Takes one delivery through explicit stages: decode → validate → run the handler under the
 * subscription's `RetryPolicy` → dead-letter (through the bus) → tell the subscription to ack.
 */
export class DeliveryProcessor {
  private readonly spanName: string;

  constructor(
    private readonly group: string,
    private readonly handler: MessageHandler,
    private readonly options: ResolvedSubscribeOptions,
    private readonly host: ProcessorHost,
    private readonly signal: AbortSignal,
    private readonly counters: ProcessorCounters,
    topic: string,
  ) {
    this.spanName = `process ${topic}`;
  }

  /**
   * Runs the stages inside the delivery's consumer span (with an OpenTelemetry SDK); returns the
   * outcome itself when every stage finished synchronously (no schema, a handler that returned
   * without a promise): see PERFORMANCE.md.
   */
  process(delivery: Delivery): Outcome | Promise<Outcome> {
    const open = processSpan(this.host.system, this.group, this.spanName, delivery);
    if (open === undefined) return this.stages(delivery);
    // Not sampled: no span to end, but the context (and its sampling decision) goes on.
    if (open.span === undefined) return open.run(() => this.stages(delivery));
    let outcome: Outcome | Promise<Outcome>;
    try {
      outcome = open.run(() => this.stages(delivery));
    } catch (error) {
      open.end(error);
      throw error;
    }
    if (typeof outcome === 'string') {
      open.end();
      return outcome;
    }
    return outcome.then(
      (settled) => {
        open.end();
        return settled;
      },
      (error: unknown) => {
        open.end(error);
        throw error;
      },
    );
  }

  private stages(delivery: Delivery): Outcome | Promise<Outcome> {
    const decoded = this.decode(delivery.message);
    if (!decoded.ok) return this.deadLetter(delivery, decoded.error, 0, decoded.reason);
    if (this.options.schema === undefined) return this.run(delivery, decoded.value);
    return this.validate(delivery.message, decoded.value).then((valid) =>
      valid.ok ? this.run(delivery, valid.value) : this.deadLetter(delivery, valid.error, 0, valid.reason),
    );
  }

  private decode(message: WireMessage): Stage<unknown> {
    try {
      return { ok: true, value: this.host.serializer.deserialize(message.body) };
    } catch (error) {
      const failure = new MessagingError(
        'DESERIALIZATION_FAILED',
        `Message ${message.id} of "${message.topic}" cannot be deserialized: ${errorMessage(error)}`,
        { topic: message.topic, cause: error },
      );
      return { ok: false, error: failure, reason: 'deserialization' };
    }
  }

  private async validate(message: WireMessage, payload: unknown): Promise<Stage<unknown>> {
    const schema = this.options.schema;
    if (!schema) return { ok: true, value: payload };
    const checked = await checkPayload(schema, message.topic, payload);
    return checked.ok ? { ok: true, value: checked.value } : { ok: false, error: checked.error, reason: 'validation' };
  }

  /**
   * The handler, under the subscription's retry policy. The first attempt is called directly, so
   * that a handler that returns without a promise finishes synchronously; when it fails, the policy
   * takes over with that failure as its first attempt (it decides whether to retry and how long to
   * wait) and runs the later attempts.
   */
  private run(delivery: Delivery, payload: unknown): Outcome | Promise<Outcome> {
    const message = delivery.message;
    const headers = message.headers;
    const context: MessageContext = {
      correlationId: headers[MessageHeaders.CORRELATION_ID] ?? message.id,
      traceparent: headers[MessageHeaders.TRACEPARENT],
      tracestate: headers[MessageHeaders.TRACESTATE],
      messageId: message.id,
    };
    const started = this.host.events.has('handled') ? performance.now() : 0;
    let result: unknown;
    try {
      result = runHandler(context, this.handler, payload, this.received(delivery, payload, context, 1));
    } catch (error) {
      return this.retry(delivery, payload, context, error, started);
    }
    if (typeof (result as PromiseLike<unknown> | null)?.then === 'function') {
      return Promise.resolve(result).then(
        () => this.handled(message, 1, started),
        (error: unknown) => this.retry(delivery, payload, context, error, started),
      );
    }
    return this.handled(message, 1, started);
  }

  private async retry(
    delivery: Delivery,
    payload: unknown,
    context: MessageContext,
    firstError: unknown,
    started: number,
  ): Promise<Outcome> {
    const message = delivery.message;
    let attempts = 1;
    let lastError = firstError;
    let failedAt = performance.now();
    try {
      await this.options.retry.execute(
        async ({ attempt }) => {
          // Attempt 1 has run: its failure is handed to the policy as it was.
          if (attempt === 1) throw firstError;
          attempts = attempt;
          this.retried(message, attempt - 1, performance.now() - failedAt, lastError);
          try {
            await runHandler(context, this.handler, payload, this.received(delivery, payload, context, attempt));
          } catch (error) {
            failedAt = performance.now();
            lastError = error;
            throw error;
          }
        },
        { signal: this.signal },
      );
    } catch {
      // Closing past the drain deadline: the message stays for redelivery.
      if (this.signal.aborted) return 'leave';
      return this.deadLetter(delivery, lastError, attempts, 'handler');
    }
    return this.handled(message, attempts, started);
  }

  private handled(message: WireMessage, attempts: number, started: number): Outcome {
    this.counters.handled += 1;
    if (this.host.events.has('handled'))
      this.host.events.emit('handled', {
        topic: message.topic,
        group: this.group,
        id: message.id,
        attempts,
        durationMs: performance.now() - started,
      });
    return 'ack';
  }

  private received(delivery: Delivery, payload: unknown, context: MessageContext, attempt: number): ReceivedMessage {
    const message = delivery.message;
    return {
      id: message.id,
      topic: message.topic,
      key: message.key,
      headers: message.headers,
      timestamp: message.timestamp,
      payload,
      attempt,
      deliveryCount: delivery.deliveryCount,
      group: this.group,
      correlationId: context.correlationId,
      traceparent: context.traceparent,
      signal: this.signal,
    };
  }

  private retried(message: WireMessage, attempt: number, delayMs: number, error: unknown): void {
    this.counters.retried += 1;
    if (this.host.events.has('retried'))
      this.host.events.emit('retried', {
        topic: message.topic,
        group: this.group,
        id: message.id,
        attempt,
        delayMs,
        error,
      });
  }

  /** Publishes the message, unchanged but for the failure headers, to the dead-letter topic through the bus. */
  private async deadLetter(
    delivery: Delivery,
    error: unknown,
    attempts: number,
    reason: DeadLetterReason,
  ): Promise<Outcome> {
    const message = delivery.message;
    const target = this.options.deadLetterTopic;
    const code = (error as { code?: unknown } | null)?.code;
    // The consumer span (when one records) ends as a failure: the handler never took the message.
    activeSpan()?.setAttribute('error.type', typeof code === 'string' ? code : reason);
    addSpanEvent('messaging.dead_letter', {
      'messaging.dead_letter.reason': reason,
      'messaging.dead_letter.topic': target ?? undefined,
      'messaging.handler.attempts': attempts,
    });
    if (target !== null) {
      const headers: Record<string, string> = {
        ...message.headers,
        [MessageHeaders.DEAD_LETTER_REASON]: reason,
        [MessageHeaders.ERROR]: errorMessage(error).slice(0, 1000),
        [MessageHeaders.ATTEMPTS]: String(attempts),
        [MessageHeaders.ORIGINAL_TOPIC]: message.topic,
        [MessageHeaders.CONSUMER_GROUP]: this.group,
        [MessageHeaders.FAILED_AT]: new Date().toISOString(),
      };
      if (typeof code === 'string' || typeof code === 'number') headers[MessageHeaders.ERROR_CODE] = String(code);
      // Not acknowledged while the dead-letter topic refuses it: the message (and its key's lane)
      // waits and dead-lettering is tried again with backoff, each failure reported, until the
      // subscription closes (then the message is left to come back to the group). Leaving it at
      // once would stall a Kafka partition for good: only Redis hands an unacknowledged message out again.
      for (let failures = 0; ; failures++) {
        try {
          await this.host.publishPrepared([
            { id: message.id, topic: target, key: message.key, headers, timestamp: Date.now(), body: message.body },
          ]);
          break;
        } catch (publishError) {
          this.host.events.emit('error', {
            operation: 'deadLetter',
            topic: message.topic,
            group: this.group,
            error: publishError,
          });
          try {
            await sleep(Math.min(10_000, 200 * 2 ** Math.min(failures, 6)), this.signal);
          } catch {
            return 'leave';
          }
        }
      }
    }
    this.counters.deadLettered += 1;
    this.host.events.emit('deadLettered', {
      topic: message.topic,
      group: this.group,
      id: message.id,
      deadLetterTopic: target,
      attempts,
      reason,
      error,
    });
    return 'ack';
  }
}
