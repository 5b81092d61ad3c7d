import { SpanKind } from '@opentelemetry/api';
import { eventually } from '@infra/test-utils';
import { parentOf, startTestTracing, type ReadableSpan, type TestTracing } from '@infra/test-utils/tracing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseTraceparent, runWithMessageContext } from './context.js';
import { MemoryAdapter } from './memory/memory-adapter.js';
import { MessageBus } from './message-bus.js';
import type { ReceivedMessage } from './subscription.js';
import { subscribeOrderRelay } from '../test/order-relay.js';
import type { Delivery } from './adapter.js';
import { messagingSystem, processSpan } from './tracing.js';

let tracing: TestTracing;
const buses: MessageBus[] = [];

beforeAll(() => {
  tracing = startTestTracing();
});
afterAll(async () => {
  await tracing.stop();
});
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close({ timeoutMs: 1000 })));
  tracing.reset();
});

function bus(): MessageBus {
  const b = new MessageBus({
    adapter: new MemoryAdapter(),
    lagIntervalMs: 0,
    retry: { maxAttempts: 2, initialDelayMs: 1, jitter: 'none' },
  });
  buses.push(b);
  return b;
}

const idOf = (span: ReadableSpan | undefined): string | undefined => span?.spanContext().spanId;
const traceparentOf = (span: ReadableSpan): string =>
  `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`;

describe('messaging spans with an OpenTelemetry SDK', () => {
  it('traces publish → process → publish in the caller trace, each process span a child of and linked to its producer', async () => {
    const b = bus();
    const { seen, ambient } = await subscribeOrderRelay(b, {
      billed: { key: 'user-1' },
      subscribe: { group: 'billing' },
    });
    const caller = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await runWithMessageContext({ correlationId: 'request-7', traceparent: caller }, () =>
      b.publish('order.placed', { id: 1 }),
    );
    await eventually(() => tracing.spansNamed('process order.billed').length === 1);
    const spans = tracing.spans();
    const [placed, billed] = [
      tracing.spansNamed('publish order.placed')[0],
      tracing.spansNamed('publish order.billed')[0],
    ];
    const [processPlaced, processBilled] = [
      tracing.spansNamed('process order.placed')[0],
      tracing.spansNamed('process order.billed')[0],
    ];
    for (const span of [placed, billed, processPlaced, processBilled])
      expect(span?.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    // The chain: caller → publish → process → publish → process.
    expect(placed?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(placed?.kind).toBe(SpanKind.PRODUCER);
    expect(idOf(parentOf(processPlaced as ReadableSpan, spans))).toBe(idOf(placed));
    expect(processPlaced?.links.map((link) => link.context.spanId)).toEqual([idOf(placed)]);
    expect(processPlaced?.kind).toBe(SpanKind.CONSUMER);
    expect(idOf(parentOf(billed as ReadableSpan, spans))).toBe(idOf(processPlaced));
    expect(idOf(parentOf(processBilled as ReadableSpan, spans))).toBe(idOf(billed));
    // The headers carry the producer span's context, and the handler's ambient context is its own span's.
    const [first, second] = seen as [ReceivedMessage, ReceivedMessage];
    expect(first.traceparent).toBe(traceparentOf(placed as ReadableSpan));
    expect(second.traceparent).toBe(traceparentOf(billed as ReadableSpan));
    expect(ambient[0]?.traceparent).toBe(traceparentOf(processPlaced as ReadableSpan));
    expect(second.correlationId).toBe('request-7');
    expect(placed?.attributes).toMatchObject({
      'messaging.system': 'memory',
      'messaging.destination.name': 'order.placed',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'publish',
      'messaging.message.id': first.id,
      'messaging.message.conversation_id': 'request-7',
    });
    expect(processBilled?.attributes).toMatchObject({
      'messaging.system': 'memory',
      'messaging.destination.name': 'order.billed',
      'messaging.operation.type': 'process',
      'messaging.message.id': second.id,
      'messaging.consumer.group.name': 'billing',
      'messaging.message.delivery_count': 1,
    });
    // Only Kafka has message keys in the conventions.
    expect(billed?.attributes['messaging.kafka.message.key']).toBeUndefined();
  });

  it('ends a prepared message`s span at once (create), and sends prepared messages in a client span linked to them', async () => {
    const b = bus();
    const seen: ReceivedMessage[] = [];
    await b.subscribe('invoice.issued', (_payload, message) => void seen.push(message)).ready();
    const prepared = await Promise.all([b.prepare('invoice.issued', { n: 1 }), b.prepare('invoice.issued', { n: 2 })]);
    const created = tracing.spansNamed('publish invoice.issued');
    expect(created.map((span) => span.attributes['messaging.operation.type'])).toEqual(['create', 'create']);
    // Two new traces: nothing was active.
    expect(new Set(created.map((span) => span.spanContext().traceId)).size).toBe(2);
    expect(prepared.map((message) => message.headers.traceparent)).toEqual(created.map(traceparentOf));
    await b.publishPrepared(prepared);
    const [send] = tracing.spansNamed('send invoice.issued');
    expect(send?.kind).toBe(SpanKind.CLIENT);
    expect(send?.attributes['messaging.batch.message_count']).toBe(2);
    expect(send?.links.map((link) => link.context.spanId)).toEqual(created.map(idOf));
    await eventually(() => tracing.spansNamed('process invoice.issued').length === 2);
    // Each consumer continues its own message's trace, not the send span's.
    for (const process of tracing.spansNamed('process invoice.issued')) {
      const producer = created.find((span) => idOf(span) === process.parentSpanContext?.spanId);
      expect(producer).toBeDefined();
      expect(process.spanContext().traceId).toBe(producer?.spanContext().traceId);
    }
    expect(seen.map((message) => parseTraceparent(message.traceparent ?? '')?.parentId).sort()).toEqual(
      created.map(idOf).sort(),
    );
  });

  it('marks a dead-lettered message`s process span with error.type and a dead-letter event', async () => {
    const b = bus();
    await b
      .subscribe('job.run', () => {
        throw Object.assign(new Error('no'), { code: 'JOB_FAILED' });
      })
      .ready();
    await b.publish('job.run', { n: 1 });
    await eventually(() => tracing.spansNamed('process job.run').length === 1);
    const [process] = tracing.spansNamed('process job.run');
    expect(process?.attributes['error.type']).toBe('JOB_FAILED');
    expect(process?.events.find((event) => event.name === 'messaging.dead_letter')?.attributes).toMatchObject({
      'messaging.dead_letter.reason': 'handler',
      'messaging.dead_letter.topic': 'job.run.dlq',
      'messaging.handler.attempts': 2,
    });
    // The dead letter itself went out through the bus, linked to the original producer.
    const [send] = tracing.spansNamed('send job.run.dlq');
    const [producer] = tracing.spansNamed('publish job.run');
    expect(send?.links.map((link) => link.context.spanId)).toEqual([idOf(producer)]);
  });

  it('ends a failed publish`s producer span with the error', async () => {
    const b = bus();
    await b.adapter.close();
    await expect(b.publish('x.y', 1)).rejects.toBeDefined();
    const [span] = tracing.spansNamed('publish x.y');
    expect(span?.status.code).toBe(2);
  });
});

describe('Kafka attributes', () => {
  it('names the partition, offset and key of a Kafka delivery, for either client', () => {
    const message = { id: 'm-1', topic: 'orders', key: 'user-1', headers: {}, timestamp: 0, body: '{}' };
    for (const adapter of ['kafka', 'platformatic-kafka']) {
      const open = processSpan(messagingSystem(adapter), 'billing', 'process orders', {
        message,
        deliveryCount: 2,
        partition: 3,
        offset: '42',
      } as Delivery);
      open?.end();
    }
    const spans = tracing.spansNamed('process orders');
    expect(spans).toHaveLength(2);
    for (const span of spans) {
      expect(span.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.destination.partition.id': '3',
        'messaging.kafka.offset': 42,
        'messaging.kafka.message.key': 'user-1',
        'messaging.message.delivery_count': 2,
        'messaging.consumer.group.name': 'billing',
      });
      // No producer context in the headers: a root span.
      expect(span.parentSpanContext).toBeUndefined();
    }
  });
});
