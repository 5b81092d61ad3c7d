import { eventually } from '@infra/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { runWithMessageContext } from './context.js';
import {
  closeMessaging,
  configureMessaging,
  createMessageBus,
  getMessageBus,
  messageConsumer,
  messagePublisher,
} from './default-bus.js';
import type { MessagingEvents } from './events.js';
import { MemoryAdapter } from './memory/memory-adapter.js';
import { MessageBus } from './message-bus.js';
import type { ReceivedMessage } from './subscription.js';
import { subscribeOrderRelay } from '../test/order-relay.js';

const buses: MessageBus[] = [];
function bus(options: ConstructorParameters<typeof MessageBus>[0] = {}): MessageBus {
  const created = new MessageBus({ lagIntervalMs: 0, ...options });
  buses.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(buses.splice(0).map((created) => created.close({ timeoutMs: 50 })));
  await closeMessaging({ timeoutMs: 50 });
});

describe('the documented usage', () => {
  it('publish and subscribe through the module-level publisher and consumer', async () => {
    const completed: unknown[] = [];
    async function challengeCompletedHandler(message: unknown): Promise<void> {
      completed.push(message);
    }
    messageConsumer.subscribe('challenge.completed', challengeCompletedHandler);
    await getMessageBus().subscriptions[0]?.ready();
    const [userId, challengeId, score] = ['u-1', 'c-9', 87];
    await messagePublisher.publish('challenge.completed', {
      userId,
      challengeId,
      score,
      timestamp: new Date().toISOString(),
    });
    await eventually(() => completed.length === 1);
    expect(completed[0]).toMatchObject({ userId, challengeId, score, timestamp: expect.any(String) });
    expect(getMessageBus().adapter.name).toBe('memory');
  });

  it('follow the bus given to configureMessaging, once', async () => {
    const adapter = new MemoryAdapter();
    const configured = configureMessaging({ adapter, group: 'challenges', lagIntervalMs: 0 });
    expect(getMessageBus()).toBe(configured);
    expect(() => configureMessaging()).toThrow(expect.objectContaining({ code: 'ALREADY_CONFIGURED' }));
    const seen: unknown[] = [];
    const subscription = messageConsumer.subscribe('challenge.completed', (payload) => void seen.push(payload));
    expect(subscription.group).toBe('challenges');
    await subscription.ready();
    await messagePublisher.publish('challenge.completed', { ok: 1 });
    await eventually(() => seen.length === 1);
    await closeMessaging();
    await expect(adapter.ping()).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('subscribeAll registers a { topic: handler } map', async () => {
    const { consumer, publisher } = bus();
    const seen: string[] = [];
    const subscriptions = consumer.subscribeAll({
      'a.done': () => void seen.push('a'),
      'b.done': () => void seen.push('b'),
    });
    await Promise.all(subscriptions.map((subscription) => subscription.ready()));
    await publisher.publish('a.done', {});
    await publisher.publish('b.done', {});
    await eventually(() => seen.length === 2);
    expect(seen.sort()).toEqual(['a', 'b']);
    expect(() => consumer.subscribeAll({ 'c.done': 42 as never })).toThrow(
      expect.objectContaining({ option: 'handlers.c.done' }),
    );
    await consumer.close();
    expect(bus().subscriptions).toHaveLength(0);
  });
});

describe('context propagation without an OpenTelemetry SDK', () => {
  it('carries the correlation id and the trace context received, unchanged, to what a handler publishes', async () => {
    const b = bus();
    const { seen, ambient } = await subscribeOrderRelay(b);
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await runWithMessageContext({ correlationId: 'request-7', traceparent, tracestate: 'k=v' }, () =>
      b.publish('order.placed', { id: 1 }),
    );
    await eventually(() => seen.length === 2);
    const [placed, billed] = seen as [ReceivedMessage, ReceivedMessage];
    expect(placed.correlationId).toBe('request-7');
    expect(billed.correlationId).toBe('request-7');
    expect(ambient).toEqual([{ correlationId: 'request-7', traceparent, tracestate: 'k=v', messageId: placed.id }]);
    // No tracer records a span here: no span id is made up, the caller's context goes on as it came.
    expect(placed.traceparent).toBe(traceparent);
    expect(billed.traceparent).toBe(traceparent);
    expect(billed.headers.tracestate).toBe('k=v');
  });

  it('starts a new correlation id outside any context, with no trace context', async () => {
    const b = bus();
    const [one, two] = await b.publishBatch([
      { topic: 'x', payload: 1 },
      { topic: 'x', payload: 2 },
    ]);
    expect(one?.headers['correlation-id']).not.toBe(two?.headers['correlation-id']);
    // A message that starts a chain is its own correlation: the id is a v4 UUID.
    expect(one?.id).toMatch(/^[\da-f]{8}-[\da-f]{4}-4[\da-f]{3}-[89ab][\da-f]{3}-[\da-f]{12}$/);
    expect(one?.headers['correlation-id']).toBe(one?.id);
    expect(one?.headers.traceparent).toBeUndefined();
    // Given headers keep their traceparent.
    const given = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const [kept, named] = await b.publishBatch([
      { topic: 'x', payload: 3, headers: { traceparent: given } },
      { topic: 'x', payload: 4, id: 'order-4' },
    ]);
    expect(kept?.headers.traceparent).toBe(given);
    expect(named).toMatchObject({ id: 'order-4', headers: { 'correlation-id': 'order-4' } });
    expect(named?.headers.traceparent).toBeUndefined();
    expect(() => runWithMessageContext({ correlationId: '' }, () => 1)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
    expect(() => runWithMessageContext({ correlationId: 'c', traceparent: 'nope' }, () => 1)).toThrow(
      expect.objectContaining({ option: 'context.traceparent' }),
    );
  });
});

describe('schemas', () => {
  const safeParse = {
    safeParse: (value: unknown) =>
      typeof (value as { score?: unknown }).score === 'number'
        ? { success: true as const, data: { ...(value as object), parsed: true } }
        : { success: false as const, error: { issues: [{ message: 'Expected number', path: ['score'] }] } },
  };

  it('rejects a publish that fails the topic schema, naming what is wrong', async () => {
    const b = bus({ schemas: { 'challenge.completed': safeParse } });
    await expect(b.publish('challenge.completed', { score: 'high' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      message: expect.stringContaining('score: Expected number'),
    });
    await expect(b.publish('challenge.completed', { score: 1 })).resolves.toMatchObject({
      topic: 'challenge.completed',
    });
  });

  it('hands the handler the schema output and accepts Standard Schemas', async () => {
    const standard = {
      '~standard': {
        validate: (value: unknown) =>
          typeof value === 'string' ? { value: value.toUpperCase() } : { issues: [{ message: 'Expected string' }] },
      },
    };
    const b = bus({ schemas: { parsed: safeParse, shout: standard }, validateOnPublish: false });
    const got: unknown[] = [];
    await b.subscribe('parsed', (payload) => void got.push(payload)).ready();
    await b.subscribe('shout', (payload) => void got.push(payload)).ready();
    await b.publish('parsed', { score: 3 });
    await b.publish('shout', 'hi');
    await eventually(() => got.length === 2);
    expect(got).toEqual([{ score: 3, parsed: true }, 'HI']);
    expect(() => bus({ schemas: { t: 42 as never } })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'schemas.t' }),
    );
  });
});

describe('failures', () => {
  it('dead-letters at once an error marked not retryable, and a body it cannot deserialize', async () => {
    const adapter = new MemoryAdapter();
    const b = bus({ adapter });
    const events: MessagingEvents['deadLettered'][] = [];
    b.on('deadLettered', (event) => {
      if (event.topic === 'jobs') events.push(event);
    });
    const dead: ReceivedMessage[] = [];
    // The unreadable body cannot be read from the dead-letter topic either: that copy is dropped.
    await b.subscribe('jobs.dlq', (_payload, message) => void dead.push(message), { deadLetterTopic: false }).ready();
    let attempts = 0;
    await b
      .subscribe('jobs', () => {
        attempts += 1;
        throw Object.assign(new Error('bad request'), { isRetryable: false, code: 'E_BAD' });
      })
      .ready();
    await b.publish('jobs', { n: 1 });
    await adapter.publish([
      { id: 'raw-1', topic: 'jobs', key: null, headers: {}, timestamp: Date.now(), body: '{not json' },
    ]);
    await eventually(() => events.length === 2);
    expect(attempts).toBe(1);
    expect(events.map((event) => [event.reason, event.attempts, event.deadLetterTopic])).toEqual(
      expect.arrayContaining([
        ['handler', 1, 'jobs.dlq'],
        ['deserialization', 0, 'jobs.dlq'],
      ]),
    );
    await eventually(() => dead.length === 1);
    expect(dead[0]?.headers).toMatchObject({
      'x-error': 'bad request',
      'x-error-code': 'E_BAD',
      'x-consumer-group': 'default',
    });
  });

  it('drops failed messages when dead-lettering is off, and reports retries', async () => {
    const b = bus({ deadLetterTopic: false, retry: { maxAttempts: 2, initialDelayMs: 1 } });
    const retried: MessagingEvents['retried'][] = [];
    const dropped: MessagingEvents['deadLettered'][] = [];
    b.on('retried', (event) => void retried.push(event));
    b.on('deadLettered', (event) => void dropped.push(event));
    await b
      .subscribe('flaky', () => {
        throw new Error('always');
      })
      .ready();
    await b.publish('flaky', {});
    await eventually(() => dropped.length === 1);
    expect(dropped[0]).toMatchObject({ deadLetterTopic: null, attempts: 2 });
    expect(retried).toHaveLength(1);
    expect(retried[0]).toMatchObject({ topic: 'flaky', attempt: 1 });
  });

  it('aborts the handler signal when the drain deadline passes, and leaves the message for redelivery', async () => {
    const adapter = new MemoryAdapter();
    const b = bus({ adapter });
    let aborted = false;
    const subscription = b.subscribe(
      't',
      (_payload, message) =>
        new Promise<void>((_resolve, reject) => {
          message.signal.addEventListener('abort', () => {
            aborted = true;
            reject(new Error('stopped'));
          });
        }),
      { group: 'g' },
    );
    await subscription.ready();
    await b.publish('t', {});
    await eventually(async () => (await adapter.backlog('t', 'g')).pending === 1);
    await subscription.close({ timeoutMs: 20 });
    expect(aborted).toBe(true);
    expect(await adapter.backlog('t', 'g')).toEqual({ pending: 0, lag: 1 });
  });
});

describe('events, health and lifecycle', () => {
  it('emits published, handled and lag events', async () => {
    const b = bus({ lagIntervalMs: 20 });
    const seen: string[] = [];
    const lags: MessagingEvents['lag'][] = [];
    b.on('published', () => void seen.push('published'));
    b.on('handled', (event) => void seen.push(`handled:${String(event.attempts)}`));
    b.on('lag', (event) => void lags.push(event));
    await b.subscribe('e', () => undefined).ready();
    await b.publish('e', 1);
    await eventually(() => seen.length === 2 && lags.length > 0);
    expect(seen).toEqual(['published', 'handled:1']);
    expect(lags[0]).toMatchObject({ topic: 'e', group: 'default', pending: expect.any(Number) });
  });

  it('warns when the backlog passes the threshold and fails when the adapter is gone', async () => {
    const adapter = new MemoryAdapter();
    const b = bus({ adapter, healthWarnBacklog: 2 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await b.subscribe('slow', () => gate, { maxInFlight: 1 }).ready();
    for (let i = 0; i < 4; i++) await b.publish('slow', i);
    await eventually(async () => (await b.healthCheck()).status === 'warn');
    expect(await b.healthCheck()).toMatchObject({
      componentId: 'memory',
      observedValue: 4,
      observedUnit: 'messages',
      connected: true,
    });
    release();
    await adapter.close();
    expect(await b.healthCheck()).toMatchObject({
      status: 'fail',
      connected: false,
      output: expect.stringContaining('closed'),
    });
  });

  it('refuses to publish or subscribe once closed, and closes idempotently', async () => {
    const b = createMessageBus({ lagIntervalMs: 0 });
    const subscription = b.subscribe('t', () => undefined);
    await Promise.all([b.close(), b.close()]);
    await expect(subscription.ready()).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(b.publish('t', {})).rejects.toMatchObject({ code: 'CLOSED' });
    expect(() => b.subscribe('t', () => undefined)).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });

  it('closes without waiting for an adapter still connecting, and releases what it connects later', async () => {
    const memory = new MemoryAdapter();
    let connect!: () => void;
    const connected = new Promise<void>((resolve) => (connect = resolve));
    let closedSources = 0;
    const slow = Object.assign(Object.create(memory) as MemoryAdapter, {
      subscribe: async (spec: Parameters<MemoryAdapter['subscribe']>[0]) => {
        await connected;
        const source = await memory.subscribe(spec);
        return {
          ...source,
          fetch: source.fetch.bind(source),
          ack: source.ack.bind(source),
          close: async () => void (closedSources += 1),
        };
      },
    });
    const b = bus({ adapter: slow });
    const subscription = b.subscribe('t', () => undefined);
    await subscription.close();
    expect(b.subscriptions).toHaveLength(0);
    connect();
    await expect(subscription.ready()).rejects.toMatchObject({ code: 'CLOSED' });
    expect(closedSources).toBe(1);
  });

  it('validates its options, naming the bad one', () => {
    expect(() => new MessageBus({ adapter: {} as never })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', option: 'adapter' }),
    );
    expect(() => new MessageBus({ retry: { maxAttempts: 0 } })).toThrow(
      expect.objectContaining({ option: 'retry.maxAttempts' }),
    );
    expect(() => new MessageBus({ group: '' })).toThrow(expect.objectContaining({ option: 'group' }));
    expect(() => new MessageBus({ deadLetterTopic: 'x' as never })).toThrow(
      expect.objectContaining({ option: 'deadLetterTopic' }),
    );
    const b = bus();
    expect(() => b.subscribe('t', () => undefined, { maxInFlight: 1, concurrency: 4 })).toThrow(
      expect.objectContaining({ option: 'maxInFlight' }),
    );
    expect(() => b.subscribe('t', () => undefined, { startFrom: 'middle' as never })).toThrow(
      expect.objectContaining({ option: 'startFrom' }),
    );
    expect(() => b.subscribe('bad topic', () => undefined)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', option: 'topic' }),
    );
    return expect(b.publish('t', {}, { headers: { n: 1 as never } })).rejects.toMatchObject({ option: 'headers.n' });
  });
});
