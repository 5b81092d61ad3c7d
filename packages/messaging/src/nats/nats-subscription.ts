import type { Msg, NatsConnection, Subscription as NatsInbox } from '@nats-io/transport-node';
import type { AdapterSubscription, Delivery, SubscribeSpec } from '../adapter.js';
import { MessagingError } from '../errors.js';
import { within } from '../within.js';
import { MSG_ID_HEADER, ackInfo, decodeMessage } from './nats-message.js';

export interface NatsDelivery extends Delivery {
  /** Where the acknowledgement of this delivery goes. */
  readonly reply: string;
  /** Sequence of the message in its stream. */
  readonly sequence: number;
}

export interface NatsSubscriptionSettings {
  stream: string;
  consumer: string;
  inbox: string;
  batchSize: number;
  fetchWaitMs: number;
  ackWaitMs: number;
  requestTimeoutMs: number;
}

/**
 * Makes the group's consumer (and its stream) exist again. `last` is the last message the
 * subscription got: its stream sequence and `Nats-Msg-Id`, to tell whether the stream still holds it.
 */
export type RecreateConsumer = (last: { sequence: number; msgId: string | undefined }) => Promise<void>;

const NANOS_PER_MS = 1_000_000;

/** Deliveries of one message after which it is reported as stuck (consumers keep dying on it). */
const STUCK_DELIVERIES = 5;

/**
 * The one pull request a subscription may have open on the server: `remaining` is what it may still
 * deliver, `deadline` when the subscription stops waiting for it, `answeredAt` when its first message
 * arrived (the server had it by then).
 */
type Pull = { state: 'idle' } | { state: 'open'; remaining: number; deadline: number; answeredAt: number | undefined };

/**
 * Between the end of a pull request on the server and the redelivery of what was given back on close.
 * The server drops an expired request on its own schedule, which a busy machine delays by hundreds
 * of milliseconds; at 50 ms a server before 2.10.14 still lost track of a redelivery there.
 */
const HAND_BACK_MARGIN_MS = 1000;

/**
 * One consumer of a group: pulls from the group's durable pull consumer with requests of its own
 * (JetStream's documented pull protocol), so that a fetch returns as soon as messages arrive and never
 * asks for more than the bus has room for. One request is open at a time; what it delivers after a
 * fetch returned waits in `buffer` for the next one. Messages fetched and not acknowledged yet are
 * kept alive with "working" acknowledgements every third of AckWait: JetStream redelivers only the
 * messages of a consumer that died, never those of a slow handler.
 */
export class NatsPullSubscription implements AdapterSubscription<NatsDelivery> {
  private readonly inbox: NatsInbox;
  private readonly nextSubject: string;
  private readonly topic: string;
  private buffer: NatsDelivery[] = [];
  private pull: Pull = { state: 'idle' };
  private wake: (() => void) | undefined;
  /** Latest reply subject of each message fetched and not acknowledged, by stream sequence. */
  private readonly unfinished = new Map<number, string>();
  /** Messages delivered {@link STUCK_DELIVERIES} times or more and not acknowledged yet. */
  private readonly stuck = new Map<number, number>();
  private last: { sequence: number; msgId: string | undefined } = { sequence: 0, msgId: undefined };
  /** The consumer or its stream is gone (the server lost them): recreated before the next pull. */
  private missing = false;
  private failure: Error | undefined;
  private closed = false;
  private readonly keepAlive: NodeJS.Timeout;

  constructor(
    private readonly nc: NatsConnection,
    spec: SubscribeSpec,
    private readonly settings: NatsSubscriptionSettings,
    private readonly recreate: RecreateConsumer,
    private readonly onClose: (subscription: NatsPullSubscription) => void,
  ) {
    this.topic = spec.topic;
    this.nextSubject = `$JS.API.CONSUMER.MSG.NEXT.${settings.stream}.${settings.consumer}`;
    this.inbox = nc.subscribe(settings.inbox, {
      callback: (error, msg) => {
        if (error) this.ended(error);
        else this.receive(msg);
      },
    });
    this.keepAlive = setInterval(
      () => {
        try {
          for (const reply of this.unfinished.values()) this.nc.publish(reply, '+WPI');
        } catch {
          // The connection was closed under the subscription (an injected one, by its owner): the
          // next fetch reports it; a timer must not throw.
        }
      },
      Math.max(50, Math.floor(settings.ackWaitMs / 3)),
    );
    this.keepAlive.unref();
  }

  async fetch(max: number, signal: AbortSignal): Promise<NatsDelivery[]> {
    if (this.closed || signal.aborted) return [];
    if (this.buffer.length > 0) return this.take(max);
    // No answer by its deadline, not even "request expired": the consumer may be gone (a JetStream
    // without it does not answer a pull), or the connection dropped the request. Checked, then replaced.
    if (this.pull.state === 'open' && Date.now() >= this.pull.deadline) {
      this.pull = { state: 'idle' };
      this.missing = true;
    }
    if (this.missing) {
      await this.recreate(this.last);
      this.missing = false;
    }
    this.throwFailure();
    const now = Date.now();
    if (this.pull.state === 'idle') {
      const batch = Math.min(max, this.settings.batchSize);
      this.pull = {
        state: 'open',
        remaining: batch,
        answeredAt: undefined,
        deadline: now + this.settings.fetchWaitMs + this.settings.requestTimeoutMs,
      };
      this.nc.publish(this.nextSubject, JSON.stringify({ batch, expires: this.settings.fetchWaitMs * NANOS_PER_MS }), {
        reply: this.settings.inbox,
      });
    }
    await this.arrival(signal, this.pull.deadline - now);
    this.throwFailure();
    return this.take(max);
  }

  /** Acknowledges, then waits (within `requestTimeoutMs`) until the server has read the acknowledgements. */
  async ack(deliveries: readonly NatsDelivery[]): Promise<void> {
    if (deliveries.length === 0) return;
    for (const delivery of deliveries) {
      const reply = this.unfinished.get(delivery.sequence) ?? delivery.reply;
      this.unfinished.delete(delivery.sequence);
      this.stuck.delete(delivery.sequence);
      this.nc.publish(reply, '+ACK');
    }
    await natsWithin(this.nc.flush(), this.settings.requestTimeoutMs, 'acknowledging messages');
  }

  /**
   * Gives `unacked` and what arrived unfetched back to the group (negative acknowledgements). With a
   * pull request still open, they are given back with a delay that outlasts the request: the server
   * drops the request then, and only then redelivers them. Given back to a server that still holds
   * the request of an inbox that is gone, a server before 2.10.14 loses track of the redelivery: it
   * sends the message later as a first delivery (`deliveryCount` 1) and one message before it again
   * (nats-server #5305).
   */
  async close(unacked: readonly NatsDelivery[]): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    const returned = [...unacked, ...this.buffer];
    this.buffer = [];
    try {
      if (returned.length > 0) {
        const delayMs = await this.handBackDelay();
        for (const delivery of returned)
          this.giveBack(this.unfinished.get(delivery.sequence) ?? delivery.reply, delayMs);
        this.unfinished.clear();
        await natsWithin(this.nc.flush(), this.settings.requestTimeoutMs, 'returning messages');
      }
    } finally {
      this.inbox.unsubscribe();
      this.wakeUp();
      this.onClose(this);
    }
  }

  /** Stops at once, acknowledging nothing more (the adapter is closing). */
  abort(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    this.inbox.unsubscribe();
    this.wakeUp();
  }

  /**
   * The connection came back: the server forgot the open request, and may have lost the consumer (a
   * restart without its storage). The consumer is checked, then a new request is sent.
   */
  reconnected(): void {
    this.pull = { state: 'idle' };
    this.missing = true;
    this.wakeUp();
  }

  /** What is stuck: messages delivered again and again without being acknowledged. */
  problems(): string[] {
    return [...this.stuck].map(
      ([sequence, count]) =>
        `${this.settings.stream}/${this.settings.consumer}: message ${String(sequence)} delivered ${String(count)} times without an acknowledgement`,
    );
  }

  private receive(msg: Msg): void {
    const info = ackInfo(msg.reply);
    if (info === undefined) {
      this.status(msg.headers?.code ?? 0, msg.headers?.description ?? '');
      return;
    }
    if (this.pull.state === 'open') {
      this.pull.answeredAt ??= Date.now();
      if (--this.pull.remaining <= 0) this.pull = { state: 'idle' };
    }
    if (this.closed) {
      // Arrived while closing (the open request still delivers): back to the group. The server has
      // had the request since it was answered, so the delay needs no round trip.
      this.giveBack(
        info.reply,
        this.pull.state === 'open' ? this.untilRequestEnded(this.pull.answeredAt ?? Date.now()) : 0,
      );
      return;
    }
    if (info.deliveryCount >= STUCK_DELIVERIES) this.stuck.set(info.streamSequence, info.deliveryCount);
    // Redelivered while still handled here (its "working" acknowledgement came late): the running
    // delivery acknowledges it, with the newest reply subject.
    const running = this.unfinished.has(info.streamSequence);
    this.unfinished.set(info.streamSequence, info.reply);
    if (running) return;
    if (info.streamSequence > this.last.sequence)
      this.last = { sequence: info.streamSequence, msgId: msg.headers?.get(MSG_ID_HEADER) };
    this.buffer.push({
      message: decodeMessage(this.topic, msg, info),
      deliveryCount: info.deliveryCount,
      reply: info.reply,
      sequence: info.streamSequence,
    });
    this.wakeUp();
  }

  /** A status message ends the open request: 408 expired, 404 nothing to deliver, 409/503 refused. */
  private status(code: number, description: string): void {
    if (code === 100) return;
    this.pull = { state: 'idle' };
    if (code === 503 || (code === 409 && /consumer deleted|consumer not found/i.test(description))) this.missing = true;
    else if (code !== 404 && code !== 408 && code !== 409)
      this.failure = new MessagingError(
        'ADAPTER_UNAVAILABLE',
        `JetStream refused a pull request on ${this.settings.stream}/${this.settings.consumer}: ${String(code)} ${description}`,
        { topic: this.topic, isRetryable: true },
      );
    this.wakeUp();
  }

  /**
   * How long what is given back must wait: until the open pull request (if any) has surely ended on
   * the server, `fetchWaitMs` after the server got it. It had it once it answered, else once a round
   * trip sent after it returns.
   */
  private async handBackDelay(): Promise<number> {
    if (this.pull.state === 'idle') return 0;
    let receivedBy = this.pull.answeredAt;
    if (receivedBy === undefined) {
      await natsWithin(this.nc.flush(), this.settings.requestTimeoutMs, 'returning messages');
      receivedBy = Date.now();
    }
    return this.untilRequestEnded(receivedBy);
  }

  /** Milliseconds until a pull request the server had by `receivedBy` has surely ended there. */
  private untilRequestEnded(receivedBy: number): number {
    return receivedBy + this.settings.fetchWaitMs + HAND_BACK_MARGIN_MS - Date.now();
  }

  /** A negative acknowledgement: the message is redelivered at once, or after `delayMs`. */
  private giveBack(reply: string, delayMs: number): void {
    this.nc.publish(
      reply,
      delayMs <= 0 ? '-NAK' : `-NAK ${JSON.stringify({ delay: Math.ceil(delayMs) * NANOS_PER_MS })}`,
    );
  }

  private ended(error: Error): void {
    this.pull = { state: 'idle' };
    this.failure = error;
    this.wakeUp();
  }

  private throwFailure(): void {
    const failure = this.failure;
    this.failure = undefined;
    if (failure) throw failure;
  }

  private take(max: number): NatsDelivery[] {
    return this.buffer.splice(0, max);
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  /** Waits for a delivery, the end of the request, an abort, or `timeoutMs`. */
  private async arrival(signal: AbortSignal, timeoutMs: number): Promise<void> {
    if (timeoutMs <= 0 || this.buffer.length > 0 || this.failure || this.missing) return;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    try {
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        timer = setTimeout(resolve, timeoutMs);
        timer.unref();
        onAbort = resolve;
        signal.addEventListener('abort', onAbort, { once: true });
      });
    } finally {
      clearTimeout(timer);
      if (onAbort) signal.removeEventListener('abort', onAbort);
      this.wake = undefined;
    }
  }
}

/** `promise`, or `ADAPTER_UNAVAILABLE` after `timeoutMs` (a flush waits while the connection is away). */
export function natsWithin<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  return within(
    promise,
    timeoutMs,
    () =>
      new MessagingError('ADAPTER_UNAVAILABLE', `NATS did not answer within ${String(timeoutMs)} ms (${what})`, {
        isRetryable: true,
      }),
  );
}
