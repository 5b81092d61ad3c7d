import { spawn, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { eventually } from '@infra/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { startDemo } from './demo-instance.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));

/** GET over `agent` (one kept-alive socket): status and whether the socket was reused. */
function get(agent: Agent, url: string): Promise<{ status: number; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      resolve(false);
    });
  });
}

describe('shutdown', () => {
  it('keeps serving kept-alive clients during the readiness delay, then closes idle sockets at once', async () => {
    const run = await startDemo({ SHUTDOWN_READINESS_DELAY_MS: '3000' });
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      expect((await get(agent, `${run.baseUrl}/v1/challenges`)).status).toBe(200);
      const closing = run.demo.close({ reason: 'SIGTERM' });
      // During the delay: not ready, but requests on the open connection are still served.
      const ready = await get(agent, `${run.baseUrl}/health/ready`);
      expect(ready).toEqual({ status: 503, reused: true });
      const during = await get(agent, `${run.baseUrl}/v1/challenges`);
      expect(during).toEqual({ status: 200, reused: true });
      const report = await closing;
      expect(report.ok, JSON.stringify(report.steps)).toBe(true);
      expect(report.steps.find((step) => step.name === 'server')?.status).toBe('ok');
      await expect(get(agent, `${run.baseUrl}/v1/challenges`)).rejects.toThrow();
    } finally {
      agent.destroy();
      await run.demo.close();
    }
  });

  describe('npm start', () => {
    let npm: ChildProcess | undefined;

    afterAll(() => {
      // Only what this test started: its own process group.
      if (npm?.pid !== undefined && npm.exitCode === null) process.kill(-npm.pid, 'SIGKILL');
    });

    it('stops the server when the npm process gets SIGTERM', async () => {
      npm = spawn('npm', ['start'], {
        cwd: root,
        // The quick start's embedded defaults: no broker of the environment (KAFKA_BROKERS, RABBITMQ_URL…).
        env: {
          ...process.env,
          MESSAGING: 'memory',
          PORT: '0',
          HOST: '127.0.0.1',
          LOG_LEVEL: 'warn',
          SHUTDOWN_READINESS_DELAY_MS: '500',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      let output = '';
      npm.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      npm.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) =>
        npm?.once('exit', (code) => {
          resolve(code);
        }),
      );

      // Installs nothing (already installed), builds what changed, then starts the demo.
      await eventually(
        () => /listening on http:\/\/127\.0\.0\.1:\d+/.test(output) || npm?.exitCode !== null,
        240_000,
        100,
      );
      const port = Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output)?.[1]);
      expect(port, output).toBeGreaterThan(0);
      expect(await portOpen(port)).toBe(true);

      process.kill(npm.pid as number, 'SIGTERM');
      await eventually(async () => !(await portOpen(port)), 60_000, 100);
      expect(await exited).toBe(0);
    }, 300_000);
  });
});
