import type {
  ClusterMetadata,
  Consumer,
  ExtendedGroupProtocolSubscription,
  GroupPartitionsAssignments,
  Message,
  MessagesStream,
} from '@platformatic/kafka';
import { assignSubscribed } from '../kafka/kafka-assigner.js';
import type { EachBatchPayloadLike, KafkaConsumerLike, KafkaMessageLike } from '../kafka/kafka-client.js';
import type { PlatformaticConnection, PlatformaticModule } from './platformatic-client.js';

type Listener = (event: { payload?: unknown }) => void;
type RunConfig = Parameters<KafkaConsumerLike['run']>[0];
type StreamRecord = Message;

/** Messages read from the stream at once, split into one batch per partition. */
const READ_LIMIT = 1000;

type State =
  | { kind: 'idle' }
  | { kind: 'running'; stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined; loop: Promise<void> }
  | { kind: 'stopped' };

/**
 * A kafkajs-shaped group consumer (`subscribe`, `run({ eachBatch })`, `commitOffsets`, instrumentation
 * events) on a `@platformatic/kafka` Consumer and its message stream. The stream reads from the
 * group's committed offsets and heartbeats by itself; batches are the messages of one partition read
 * together. A stream that fails (a broker away) is replaced by a fresh client that rejoins the group
 * and reads again from the committed offsets, as kafkajs restarts a crashed consumer.
 */
export class PlatformaticConsumer implements KafkaConsumerLike {
  private readonly listeners = new Map<string, Listener[]>();
  private topics: string[] = [];
  private client: Consumer;
  private state: State = { kind: 'idle' };
  private wake: (() => void) | undefined;

  constructor(
    private readonly mod: PlatformaticModule,
    private readonly connection: PlatformaticConnection,
    private readonly config: {
      groupId: string;
      sessionTimeout?: number;
      heartbeatInterval?: number;
      maxWaitTimeInMs?: number;
      maxBytesPerPartition?: number;
    },
  ) {
    this.client = this.createClient();
  }

  async connect(): Promise<void> {
    await this.client.listApis();
  }

  on(event: string, listener: Listener): this {
    const list = this.listeners.get(event);
    if (list) list.push(listener);
    else this.listeners.set(event, [listener]);
    return this;
  }

  subscribe(subscription: { topics: string[] }): Promise<void> {
    this.topics = [...subscription.topics];
    return Promise.resolve();
  }

  async commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void> {
    await this.client.commit({
      offsets: offsets.map(({ topic, partition, offset }) => ({
        topic,
        partition,
        offset: BigInt(offset),
        leaderEpoch: -1,
      })),
    });
  }

  async run(config: RunConfig): Promise<void> {
    if (this.state.kind !== 'idle') throw new Error(`consumer of group "${this.config.groupId}" is ${this.state.kind}`);
    // As kafkajs' run(): a join the group refuses is retried in the background, each failure a crash event.
    let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
    try {
      stream = await this.consume();
    } catch (error) {
      this.emit('consumer.crash', { error });
    }
    // A disconnect() while joining wins: the stream just made is closed with the client.
    if ((this.state as State).kind === 'stopped') return;
    let started!: () => void;
    const ready = new Promise<void>((resolve) => (started = resolve));
    // The pump reads `running` from its first step: the state is set before it starts.
    this.state = { kind: 'running', stream, loop: ready.then(() => this.pump(stream, config)) };
    started();
  }

  async disconnect(): Promise<void> {
    const state = this.state;
    this.state = { kind: 'stopped' };
    this.wake?.();
    await closeForcefully(this.client);
    if (state.kind === 'running') await state.loop;
  }

  private isRunning(): boolean {
    return this.state.kind === 'running';
  }

  private createClient(): Consumer {
    const client = new this.mod.Consumer<Buffer, Buffer, Buffer, Buffer>({
      ...this.connection,
      groupId: this.config.groupId,
      autocreateTopics: true,
      autocommit: false,
      ...(this.config.sessionTimeout === undefined ? {} : { sessionTimeout: this.config.sessionTimeout }),
      ...(this.config.heartbeatInterval === undefined ? {} : { heartbeatInterval: this.config.heartbeatInterval }),
      ...(this.config.maxWaitTimeInMs === undefined ? {} : { maxWaitTime: this.config.maxWaitTimeInMs }),
      ...(this.config.maxBytesPerPartition === undefined
        ? {}
        : { maxBytesPerPartition: this.config.maxBytesPerPartition }),
      partitionAssigner: subscribedAssigner,
    });
    client.on('consumer:group:join', (payload) => {
      const memberAssignment = Object.fromEntries((payload.assignments ?? []).map((a) => [a.topic, a.partitions]));
      this.emit('consumer.group_join', { memberAssignment });
    });
    client.on('consumer:group:rebalance', () => {
      this.emit('consumer.rebalancing', {});
    });
    client.on('consumer:heartbeat:error', (payload) => {
      this.emit('consumer.crash', { error: payload.error });
    });
    client.on('error', (error: unknown) => {
      this.emit('consumer.crash', { error });
    });
    return client;
  }

  private async consume(): Promise<MessagesStream<Buffer, Buffer, Buffer, Buffer>> {
    const stream = await this.client.consume({
      topics: this.topics,
      mode: 'committed',
      fallbackMode: 'earliest',
      autocommit: false,
      ...(this.config.sessionTimeout === undefined ? {} : { sessionTimeout: this.config.sessionTimeout }),
      ...(this.config.heartbeatInterval === undefined ? {} : { heartbeatInterval: this.config.heartbeatInterval }),
      ...(this.config.maxWaitTimeInMs === undefined ? {} : { maxWaitTime: this.config.maxWaitTimeInMs }),
      partitionAssigner: subscribedAssigner,
    });
    // Without a listener a stream error would be thrown at the process; the pump reads `errored`.
    stream.on('error', () => this.wake?.());
    // Paused mode from the start: the stream fetches only for a reader that is not null-flowing, and
    // a read() before the listener would leave it waiting for a fetch it never started.
    stream.on('readable', () => this.wake?.());
    stream.on('close', () => this.wake?.());
    return stream;
  }

  /** Reads until the consumer stops, replacing the client whenever its stream fails or ends. */
  private async pump(
    first: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined,
    config: RunConfig,
  ): Promise<void> {
    let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined = first;
    while (this.isRunning()) {
      if (stream) {
        try {
          await this.drain(stream, config);
        } catch (error) {
          this.emit('consumer.crash', { error });
        }
      }
      if (!this.isRunning()) return;
      await closeForcefully(this.client);
      await this.pause(this.connection.retryDelay);
      if (!this.isRunning()) return;
      this.client = this.createClient();
      this.emit('consumer.rebalancing', {});
      try {
        stream = await this.consume();
        if (this.state.kind === 'running') this.state = { ...this.state, stream };
      } catch (error) {
        stream = undefined;
        this.emit('consumer.crash', { error });
      }
    }
  }

  private async drain(stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>, config: RunConfig): Promise<void> {
    while (this.isRunning()) {
      const records: StreamRecord[] = [];
      let record: StreamRecord | null;
      while (records.length < READ_LIMIT && (record = stream.read() as StreamRecord | null) !== null)
        records.push(record);
      if (records.length > 0) {
        await this.dispatch(records, config);
        continue;
      }
      if (stream.errored) throw stream.errored;
      if (stream.destroyed || stream.readableEnded) return;
      await new Promise<void>((resolve) => {
        this.wake = () => {
          this.wake = undefined;
          resolve();
        };
      });
    }
  }

  /** One batch per partition, `partitionsConsumedConcurrently` at a time; order holds within each. */
  private async dispatch(records: StreamRecord[], config: RunConfig): Promise<void> {
    const client = this.client;
    const generation = client.generationId;
    const batches = new Map<string, { topic: string; partition: number; messages: KafkaMessageLike[] }>();
    let batch: { topic: string; partition: number; messages: KafkaMessageLike[] } | undefined;
    for (const record of records) {
      // Read before the last rebalance: the stream reads these partitions again from the committed offsets.
      if (generationOf(record) !== generation) continue;
      // A fetch answers partition by partition: most records belong with the one before.
      if (batch?.partition !== record.partition || batch.topic !== record.topic) {
        const place = `${record.topic}:${String(record.partition)}`;
        batch = batches.get(place);
        if (!batch) {
          batch = { topic: record.topic, partition: record.partition, messages: [] };
          batches.set(place, batch);
        }
      }
      // The record goes to the group consumer as it is (offsets as bigints, headers as a Map).
      batch.messages.push(record);
    }
    const queue = [...batches.values()];
    const stale = (topic: string, partition: number) => (): boolean =>
      this.client !== client ||
      client.generationId !== generation ||
      !(client.assignments ?? []).some((a) => a.topic === topic && a.partitions.includes(partition));
    const worker = async (): Promise<void> => {
      for (let batch = queue.shift(); batch; batch = queue.shift()) {
        const isStale = stale(batch.topic, batch.partition);
        const payload: EachBatchPayloadLike = {
          batch,
          // The stream keeps its own fetch position; commits go through commitOffsets.
          resolveOffset: () => undefined,
          commitOffsetsIfNecessary: () => Promise.resolve(),
          // The client heartbeats on its own timer, whatever the handlers do.
          heartbeat: () => Promise.resolve(),
          isRunning: () => this.isRunning(),
          isStale,
        };
        if (!isStale()) await config.eachBatch(payload);
      }
    };
    const workers = Math.max(1, Math.min(config.partitionsConsumedConcurrently ?? 1, queue.length));
    await Promise.all(Array.from({ length: workers }, worker));
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private emit(event: string, payload: unknown): void {
    const error = (payload as { error?: unknown }).error;
    const told = error === undefined ? payload : { ...(payload as object), error: withReasons(error) };
    for (const listener of this.listeners.get(event) ?? []) listener({ payload: told });
  }
}

/**
 * Each partition goes only to members subscribed to its topic (the client's round-robin spreads
 * every topic over every member, whatever it reads).
 */
function subscribedAssigner(
  _current: string,
  members: Map<string, ExtendedGroupProtocolSubscription>,
  _topics: Set<string>,
  metadata: ClusterMetadata,
): GroupPartitionsAssignments[] {
  const partitions = new Map(
    [...metadata.topics].map(([topic, info]) => [topic, Array.from({ length: info.partitionsCount }, (_, i) => i)]),
  );
  const plan = assignSubscribed(
    [...members.values()].map((member) => ({ memberId: member.memberId, topics: member.topics ?? [] })),
    partitions,
  );
  return plan.map(({ memberId, assignment }) => ({
    memberId,
    assignments: new Map(Object.entries(assignment).map(([topic, list]) => [topic, { topic, partitions: list }])),
  }));
}

/** Closes the client with its streams (leaving the group); a failure to close leaves nothing to release. */
function closeForcefully(client: Consumer): Promise<void> {
  return new Promise((resolve) => {
    client.close(true, () => {
      resolve();
    });
  });
}

/**
 * The client wraps the broker's answer in an error whose message only names the request
 * ("… executing API JoinGroup(v9)"): the reasons of its inner errors are added, the original kept as cause.
 */
function withReasons(error: unknown): unknown {
  const inner = (error as { errors?: unknown } | null)?.errors;
  if (!(error instanceof Error) || !Array.isArray(inner) || inner.length === 0) return error;
  const reasons = [...new Set(inner.map((entry) => (entry instanceof Error ? entry.message : String(entry))))];
  return new Error(`${error.message}: ${reasons.join('; ')}`, { cause: error });
}

/** The group generation a record was fetched in (the stream stamps it in `metadata.consumer`). */
function generationOf(record: StreamRecord): number | undefined {
  return (record.metadata.consumer as { generationId?: number } | undefined)?.generationId;
}
