import { connect, createServer, type Server, type Socket } from 'node:net';

/** What a {@link TcpProxy} does with the traffic it forwards. */
export type ProxyMode =
  /** Forwards both ways. */
  | 'forward'
  /** Accepts connections and reads from them, but forwards nothing either way: a stalled peer. */
  | 'blackhole';

/** A TCP forwarder in front of a real server, which a test can cut, stall or slow for its own clients. */
export interface TcpProxy {
  /** The port on 127.0.0.1 the proxy listens on (the same across cut and restore). */
  readonly port: number;
  /** `host:port` of the proxy. */
  readonly address: string;
  /** Connections open now (each client and its upstream counted once). */
  readonly connections: number;
  /** Cuts every open connection and refuses new ones, as a crashed or unreachable server would. */
  cut(): Promise<void>;
  /** Listens again on the same port and forwards (ends `cut`, `blackhole` and `slow`). */
  restore(): Promise<void>;
  /** Keeps connections open but lets nothing through: calls stall until their own timeouts. */
  blackhole(): void;
  /** Delays every chunk by `delayMs` in both directions (0 to stop). */
  slow(delayMs: number): void;
  /** Cuts every connection and stops listening for good. */
  close(): Promise<void>;
}

interface Pair {
  client: Socket;
  upstream: Socket;
}

/**
 * Forwards 127.0.0.1:<port> to `target`: point a client at the proxy, and the test can make the
 * real service unreachable, stalled or slow for that client alone, without touching the service
 * or anyone else's connections.
 */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let server: Server | undefined;
  let port = 0;
  let mode: ProxyMode = 'forward';
  let delayMs = 0;
  let closed = false;

  const pipe = (from: Socket, to: Socket): void => {
    from.on('data', (chunk: Buffer) => {
      if (mode === 'blackhole') return;
      if (delayMs <= 0) {
        to.write(chunk);
        return;
      }
      // Pausing keeps the order of chunks while each waits its delay.
      from.pause();
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
        from.resume();
      }, delayMs).unref();
    });
  };

  const accept = (client: Socket): void => {
    const upstream = connect(target.port, target.host);
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    pipe(client, upstream);
    pipe(upstream, client);
  };

  const listen = async (): Promise<void> => {
    if (server || closed) return;
    const next = createServer(accept);
    await new Promise<void>((resolve, reject) => {
      next.once('error', reject);
      next.listen(port, '127.0.0.1', () => {
        resolve();
      });
    });
    const address = next.address();
    port = typeof address === 'object' && address !== null ? address.port : port;
    server = next;
  };

  const cut = async (): Promise<void> => {
    const current = server;
    server = undefined;
    for (const { client, upstream } of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
    if (current) {
      await new Promise<void>((resolve) => {
        current.close(() => {
          resolve();
        });
      });
    }
  };

  await listen();
  return {
    get port() {
      return port;
    },
    get address() {
      return `127.0.0.1:${port}`;
    },
    get connections() {
      return pairs.size;
    },
    cut,
    restore: async () => {
      mode = 'forward';
      delayMs = 0;
      await listen();
    },
    blackhole: () => {
      mode = 'blackhole';
    },
    slow: (ms: number) => {
      delayMs = ms;
    },
    close: async () => {
      closed = true;
      await cut();
    },
  };
}
