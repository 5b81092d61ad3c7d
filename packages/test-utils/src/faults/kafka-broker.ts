import { join } from 'node:path';
import { serverPort } from '../services.js';
import { startReaper } from './processes.js';

interface BrokerModule {
  startBroker(options: {
    port: number;
    controllerPort: number;
    dir: string;
    fresh?: boolean;
    timeoutMs?: number;
    heap?: string;
  }): Promise<{ bootstrap: string; pid: number | undefined }>;
  stopBroker(options: {
    port: number;
    dir: string;
    keepData?: boolean;
    signal?: NodeJS.Signals;
  }): Promise<{ stopped: boolean }>;
}

/** A Kafka broker of a test's own on free ports, which the test may kill and restart. */
export interface PrivateKafka {
  /** `127.0.0.1:<port>` */
  readonly bootstrap: string;
  readonly port: number;
  /** SIGKILL: the broker dies at once; its log on disk survives for {@link PrivateKafka.start}. */
  kill(): Promise<void>;
  /** Starts it again with the data it had (committed offsets and messages survive). */
  start(): Promise<void>;
  /** Stops it for good and removes its data. */
  close(): Promise<void>;
}

export interface PrivateKafkaOptions {
  /** JVM heap of the broker (`-Xmx`/`-Xms`): a test broker holds little, and tests run side by side. @default '256m' */
  heap?: string;
}

/**
 * Starts a single-node KRaft broker on free ports (the same script as `node scripts/kafka.mjs`),
 * for tests that kill or restart a broker: the shared broker on :9092 is never stopped by a test.
 * Needs Java 17+ and Maven, as the shared one does.
 */
export async function startPrivateKafka(options: PrivateKafkaOptions = {}): Promise<PrivateKafka> {
  const script = join(import.meta.dirname, '..', '..', '..', '..', 'scripts', 'kafka-broker.mjs');
  const broker = (await import(script)) as BrokerModule;
  const heap = options.heap ?? '256m';
  const port = await serverPort();
  let controllerPort = await serverPort();
  while (controllerPort === port) controllerPort = await serverPort();
  const { tmpdir } = await import('node:os');
  const dir = join(tmpdir(), `infra-kafka-test-${port}`);
  const reaper = startReaper(dir);
  // The broker is the leader of a process group of its own.
  const watch = (pid: number | undefined): void => {
    reaper.watch(pid === undefined ? undefined : -pid);
  };
  const start = async (): Promise<void> => {
    watch((await broker.startBroker({ port, controllerPort, dir, heap, timeoutMs: 180_000 })).pid);
  };
  try {
    watch((await broker.startBroker({ port, controllerPort, dir, heap, fresh: true, timeoutMs: 180_000 })).pid);
  } catch (error) {
    // Nothing of a broker that did not start stays behind: no process, no data directory.
    await broker.stopBroker({ port, dir }).catch(() => undefined);
    reaper.release();
    throw error;
  }
  return {
    bootstrap: `127.0.0.1:${port}`,
    port,
    kill: async () => {
      await broker.stopBroker({ port, dir, keepData: true, signal: 'SIGKILL' });
      watch(undefined);
    },
    start,
    close: async () => {
      await broker.stopBroker({ port, dir });
      reaper.release();
    },
  };
}
