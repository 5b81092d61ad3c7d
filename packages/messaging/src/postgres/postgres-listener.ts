import { Socket } from 'node:net';
import { sleep } from '@infra/core';
import type { Client, ClientConfig } from 'pg';
import { errorMessage } from '../errors.js';
import type { PostgresDb } from './postgres-db.js';

export interface ListenerSettings {
  channel: string;
  connectTimeoutMs: number;
  /** How often the connection is asked to answer; one that does not within `connectTimeoutMs` is replaced (ms). */
  probeIntervalMs: number;
  /** A notification arrived: its payload (queue ids separated by commas, or empty). */
  onNotify: (payload: string) => void;
  /** (Re)connected and listening: notifications sent meanwhile were lost, so every consumer looks again. */
  onListening: () => void;
  onError: (error: Error) => void;
}

/** The listener's lifecycle, one state at a time. */
type ListenerState =
  | { state: 'connecting' }
  | { state: 'listening'; client: Client; socket: Socket }
  | { state: 'down'; reason: string }
  | { state: 'closed' };

/**
 * The adapter's one LISTEN connection. It is replaced after an error, an end, or a probe left
 * unanswered (a stalled network), with a short backoff; consumers poll meanwhile, and are all woken
 * once it listens again, so that a notification lost in between strands nothing.
 */
export class PostgresListener {
  private current: ListenerState = { state: 'connecting' };
  private readonly probeTimer: NodeJS.Timeout;
  private readonly stopped = new AbortController();
  private connecting: Promise<void> | undefined;
  private probing = false;

  constructor(
    private readonly db: PostgresDb,
    private readonly settings: ListenerSettings,
  ) {
    this.probeTimer = setInterval(() => {
      void this.probe();
    }, settings.probeIntervalMs);
    this.probeTimer.unref();
    this.connecting = this.connectLoop();
  }

  /** Why notifications are not arriving, if they are not. */
  problem(): string | undefined {
    const current = this.current;
    if (current.state === 'down') return `LISTEN connection to Postgres lost (${current.reason}); reconnecting`;
    return undefined;
  }

  get listening(): boolean {
    return this.current.state === 'listening';
  }

  async close(): Promise<void> {
    const current = this.current;
    this.current = { state: 'closed' };
    this.stopped.abort();
    clearInterval(this.probeTimer);
    if (current.state === 'listening') await this.dispose(current.client, current.socket);
    await this.connecting;
  }

  private async connectLoop(): Promise<void> {
    for (let attempt = 0; !this.stopped.signal.aborted; attempt++) {
      // Our own socket, so that a connection stalled by the network can be destroyed at once.
      const socket = new Socket();
      const config: ClientConfig = {
        ...this.db.listenConfig,
        connectionTimeoutMillis: this.settings.connectTimeoutMs,
        stream: () => socket,
      };
      const client = new this.db.Client(config);
      client.on('error', (error) => {
        this.lost(client, error);
      });
      client.on('end', () => {
        this.lost(client, new Error('connection ended'));
      });
      client.on('notification', (notification) => {
        this.settings.onNotify(notification.payload ?? '');
      });
      try {
        await client.connect();
        await withTimeout(client.query(`LISTEN "${this.settings.channel}"`), this.settings.connectTimeoutMs);
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- close() may run while connecting
        if (this.stopped.signal.aborted) {
          await this.dispose(client, socket);
          return;
        }
        this.current = { state: 'listening', client, socket };
        this.settings.onListening();
        return;
      } catch (error) {
        await this.dispose(client, socket);
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- close() may run while connecting
        if (this.stopped.signal.aborted) return;
        const reason = errorMessage(error);
        this.current = { state: 'down', reason };
        this.settings.onError(error instanceof Error ? error : new Error(reason));
        await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 5)), this.stopped.signal).catch(() => undefined);
      }
    }
  }

  private lost(client: Client, error: Error): void {
    const current = this.current;
    if (current.state !== 'listening' || current.client !== client) return;
    this.current = { state: 'down', reason: errorMessage(error) };
    this.settings.onError(error);
    void this.dispose(client, current.socket);
    this.connecting = this.connectLoop();
  }

  /** Runs `SELECT 1` on the listening connection; an error or no answer in time replaces it. */
  private async probe(): Promise<void> {
    const current = this.current;
    if (current.state !== 'listening' || this.probing) return;
    this.probing = true;
    try {
      await withTimeout(current.client.query('SELECT 1'), this.settings.connectTimeoutMs);
    } catch (error) {
      this.lost(current.client, error instanceof Error ? error : new Error(errorMessage(error)));
    } finally {
      this.probing = false;
    }
  }

  private async dispose(client: Client, socket: Socket): Promise<void> {
    client.removeAllListeners('notification');
    // Errors of a connection being thrown away are not news.
    client.on('error', () => undefined);
    // Not awaited: once its socket is gone, the end of a client may never be reported.
    void client.end().catch(() => undefined);
    socket.destroy();
    await Promise.resolve();
  }
}

async function withTimeout<T>(promise: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        timer.unref();
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
