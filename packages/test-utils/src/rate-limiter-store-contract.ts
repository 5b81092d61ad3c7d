import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The shape of a rate-limiter store this suite checks (see @infra/resilience RateLimiterStore). */
interface Rule {
  algorithm: 'fixed-window' | 'sliding-window' | 'token-bucket';
  limit: number;
  windowMs: number;
}
interface Decision {
  allowed: boolean;
  limit: number;
  remaining: number;
  retryAfterMs: number;
  resetMs: number;
}
interface Store {
  consume(key: string, rule: Rule, cost: number): Promise<Decision>;
  reset(key: string): Promise<void>;
  close?(): Promise<void>;
}

export interface RateLimiterStoreContractOptions {
  /** Shown in the suite's title. */
  name: string;
  /** Creates one store. Several may be created to play several instances sharing state. */
  create: () => Store | Promise<Store>;
  /** True when separate `create()` results share state (a distributed store). */
  shared: boolean;
  /** A prefix for the keys this run uses, so concurrent runs never collide. */
  keyPrefix: string;
}

const algorithms = ['fixed-window', 'sliding-window', 'token-bucket'] as const;

/**
 * Behaviour every rate-limiter store must have: per-key limits, atomic decisions under
 * concurrency (never more admitted than the limit), cost accounting, retry hints and reset.
 */
export function rateLimiterStoreContract(options: RateLimiterStoreContractOptions): void {
  describe(`rate limiter store contract: ${options.name}`, () => {
    const stores: Store[] = [];
    let store: Store;
    let n = 0;
    const key = (label: string): string => `${options.keyPrefix}:${label}:${String(n++)}`;

    beforeAll(async () => {
      store = await options.create();
      stores.push(store);
    });

    afterAll(async () => {
      for (const s of stores) await s.close?.();
    });

    for (const algorithm of algorithms) {
      describe(algorithm, () => {
        // Long windows so that no refill happens while a test runs.
        const rule: Rule = { algorithm, limit: 5, windowMs: 60_000 };

        it('admits up to the limit, then refuses with a retry hint', async () => {
          const k = key('basic');
          const decisions: Decision[] = [];
          for (let i = 0; i < 7; i++) decisions.push(await store.consume(k, rule, 1));
          expect(decisions.map((d) => d.allowed)).toEqual([true, true, true, true, true, false, false]);
          expect(decisions[0]?.remaining).toBe(4);
          expect(decisions[4]?.remaining).toBe(0);
          const refused = decisions[5];
          expect(refused?.retryAfterMs).toBeGreaterThan(0);
          expect(refused?.retryAfterMs).toBeLessThanOrEqual(rule.windowMs);
          expect(refused?.limit).toBe(5);
        });

        it('keeps keys apart', async () => {
          const a = key('a');
          const b = key('b');
          for (let i = 0; i < 5; i++) await store.consume(a, rule, 1);
          expect((await store.consume(a, rule, 1)).allowed).toBe(false);
          expect((await store.consume(b, rule, 1)).allowed).toBe(true);
        });

        it('counts cost and refuses a cost that does not fit without consuming it', async () => {
          const k = key('cost');
          expect((await store.consume(k, rule, 3)).allowed).toBe(true);
          expect((await store.consume(k, rule, 3)).allowed).toBe(false);
          expect((await store.consume(k, rule, 2)).allowed).toBe(true);
          expect((await store.consume(k, rule, 1)).allowed).toBe(false);
        });

        it('never admits more than the limit under concurrent calls', async () => {
          const k = key('race');
          const wide: Rule = { ...rule, limit: 50 };
          const clients = options.shared ? await Promise.all([1, 2, 3, 4].map(async () => options.create())) : [store];
          if (options.shared) stores.push(...clients);
          const results = await Promise.all(
            Array.from({ length: 400 }, (_, i) => (clients[i % clients.length] ?? store).consume(k, wide, 1)),
          );
          expect(results.filter((d) => d.allowed)).toHaveLength(50);
        });

        it('forgets a key on reset', async () => {
          const k = key('reset');
          for (let i = 0; i < 5; i++) await store.consume(k, rule, 1);
          expect((await store.consume(k, rule, 1)).allowed).toBe(false);
          await store.reset(k);
          expect((await store.consume(k, rule, 1)).allowed).toBe(true);
        });
      });
    }

    it('admits again once the window has passed', async () => {
      const k = key('refill');
      const rule: Rule = { algorithm: 'token-bucket', limit: 2, windowMs: 200 };
      expect((await store.consume(k, rule, 2)).allowed).toBe(true);
      const refused = await store.consume(k, rule, 1);
      expect(refused.allowed).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, refused.retryAfterMs + 20));
      expect((await store.consume(k, rule, 1)).allowed).toBe(true);
    });
  });
}
