import { existsSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startPrivateNats, type PrivateNats } from './index.js';

/** The server's INFO line (sent on connect), or 'down' when nothing answers within `timeoutMs`. */
async function info(port: number, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (line: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(line);
    };
    const timer = setTimeout(() => {
      done('down');
    }, timeoutMs);
    socket.once('error', () => {
      done('down');
    });
    socket.once('data', (data) => {
      done(data.toString());
    });
  });
}

const servers: PrivateNats[] = [];
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
});

describe.skipIf(!existsSync('/usr/sbin/nats-server'))('startPrivateNats', () => {
  it('starts a JetStream server that a test kills, restarts (with or without its storage), pauses and closes', async () => {
    const server = await startPrivateNats();
    servers.push(server);
    expect(server.servers).toBe(`127.0.0.1:${String(server.port)}`);
    expect(await info(server.port)).toMatch(/^INFO .*"jetstream":true/);

    // A file of the store stands for what JetStream keeps there.
    const marker = join(server.storeDir, 'kept.marker');
    writeFileSync(marker, 'x');
    await server.kill();
    expect(server.pid).toBeUndefined();
    expect(await info(server.port)).toBe('down');
    await server.restart();
    expect(server.pid).toBeGreaterThan(0);
    expect(await info(server.port)).toMatch(/^INFO /);
    expect(existsSync(marker)).toBe(true);

    await server.restart({ wipeStorage: true });
    expect(await info(server.port)).toMatch(/^INFO /);
    expect(existsSync(marker)).toBe(false);

    await server.pause();
    expect(await info(server.port, 300)).toBe('down');
    server.resume();
    expect(await info(server.port)).toMatch(/^INFO /);

    const pid = server.pid;
    await server.close();
    expect(existsSync(server.storeDir)).toBe(false);
    expect(() => process.kill(pid ?? 0, 0)).toThrow();
  });
});
