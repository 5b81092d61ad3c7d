import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closedPort, rateLimiterStoreContract, uniqueName } from '@infra/test-utils';
import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimiter } from '../index.js';
import { RedisRateLimiterStore } from './index.js';

// A three-node Redis Cluster of this test's own (cluster-enabled redis-servers on free ports, no
// replicas), stopped by pid at the end. The shared Redis is not a cluster and is never touched.

interface Node {
  port: number;
  pidFile: string;
}

const dir = mkdtempSync(join(tmpdir(), 'infra-rl-cluster-'));
const nodes: Node[] = [];
const clients: Cluster[] = [];

function startNode(port: number): Node {
  const pidFile = join(dir, `${port}.pid`);
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'];
  args.push('--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`));
  args.push('--daemonize', 'yes', '--pidfile', pidFile, '--dir', dir, '--logfile', join(dir, `${port}.log`));
  const result = spawnSync('redis-server', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`redis-server ${port} did not start: ${result.stderr}`);
  return { port, pidFile };
}

async function waitFor(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function cli(port: number, ...args: string[]): string {
  return spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8' }).stdout.trim();
}

function connect(): Cluster {
  const first = nodes[0];
  if (!first) throw new Error('the cluster is not running');
  const cluster = new Cluster([{ host: '127.0.0.1', port: first.port }], { redisOptions: { connectTimeout: 2000 } });
  cluster.on('error', () => undefined);
  clients.push(cluster);
  return cluster;
}

beforeAll(async () => {
  for (let i = 0; i < 3; i++) nodes.push(startNode(await closedPort()));
  for (const node of nodes) await waitFor(() => cli(node.port, 'PING') === 'PONG', `node ${node.port} answers`);
  const create = spawnSync(
    'redis-cli',
    ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'],
    { encoding: 'utf8' },
  );
  if (create.status !== 0) throw new Error(`redis-cli --cluster create failed: ${create.stdout}${create.stderr}`);
  for (const node of nodes) {
    await waitFor(
      () => cli(node.port, 'CLUSTER', 'INFO').includes('cluster_state:ok'),
      `cluster is ok at ${node.port}`,
    );
  }
}, 120_000);

afterAll(() => {
  for (const client of clients) client.disconnect();
  for (const node of nodes) {
    if (!existsSync(node.pidFile)) continue;
    try {
      process.kill(Number(readFileSync(node.pidFile, 'utf8').trim()), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

// Every store of the suite shares one prefix: several of them play instances sharing state.
const contractPrefix = `${uniqueName('rl-cluster')}:`;
rateLimiterStoreContract({
  name: 'redis cluster',
  create: () => new RedisRateLimiterStore({ client: connect(), prefix: contractPrefix }),
  shared: true,
  keyPrefix: 'contract',
});

describe('RedisRateLimiterStore on a Cluster', () => {
  it('spreads keys over the nodes, and decides on a duplicate when ownConnection is set', async () => {
    const cluster = connect();
    const prefix = `${uniqueName('rl-cluster-own')}:`;
    // Bounds a busy machine can meet: this test is about where keys land, not about timeouts.
    const patient = { connectTimeoutMs: 30_000, commandTimeoutMs: 30_000 };
    const store = new RedisRateLimiterStore({ client: cluster, ownConnection: true, prefix, ...patient });
    const limiter = new RateLimiter({
      limit: 2,
      windowMs: 60_000,
      store,
      onStoreError: 'throw',
      storeTimeoutMs: 30_000,
    });
    for (let i = 0; i < 30; i++) expect((await limiter.consume(`user:${i}`)).allowed).toBe(true);
    expect((await limiter.consume('user:0')).allowed).toBe(true);
    expect((await limiter.consume('user:0')).allowed).toBe(false);
    // Thirty keys without a hash tag land on every node of the cluster.
    const counts = nodes.map((node) => Number(cli(node.port, 'DBSIZE')));
    expect(counts.filter((count) => count > 0)).toHaveLength(3);
    await store.close();
    expect(await cluster.ping()).toBe('PONG'); // the injected cluster stays open
  }, 60_000);
});
