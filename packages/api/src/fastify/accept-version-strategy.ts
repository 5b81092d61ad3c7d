import type { FastifyServerOptions } from 'fastify';
import { InvalidOptionError, check } from '../errors.js';

/** A find-my-way constraint strategy, as `Fastify({ constraints: { version } })` takes it. */
export type VersionConstraintStrategy = NonNullable<FastifyServerOptions['constraints']>[string];

export interface AcceptVersionStrategyOptions {
  /**
   * Version served to requests without `Accept-Version` (`'1'`, `'1.x'`, `'1.2.0'`). Routes without
   * a version constraint keep answering every request either way.
   * @default undefined (such requests reach only unversioned routes)
   */
  defaultVersion?: string;
}

const RANGE = /^v?(\d+|x|\*)(?:\.(\d+|x|\*))?(?:\.(\d+|x|\*))?$/i;
const EXACT = /^(\d+)\.(\d+)\.(\d+)$/;

/**
 * Turns an `Accept-Version` value into the key the store knows: `v2`/`2`/`2.x` -> `2.x`,
 * `2.1` -> `2.1.x`, `2.1.3` -> `2.1.3`, `*` -> `*`. Undefined for anything else.
 */
export function normalizeVersionRange(value: string): string | undefined {
  const given: unknown = value;
  if (typeof given !== 'string') throw new InvalidOptionError('value', given, 'a string');
  const match = RANGE.exec(given.trim());
  if (match === null) return undefined;
  const [, major, minor, patch] = match as unknown as [string, string, string | undefined, string | undefined];
  const numeric = (part: string | undefined): boolean => part !== undefined && /^\d+$/.test(part);
  if (!numeric(major)) return minor === undefined && patch === undefined ? '*' : undefined;
  if (!numeric(minor)) return patch === undefined || !numeric(patch) ? `${Number(major)}.x` : undefined;
  if (!numeric(patch)) return `${Number(major)}.${Number(minor)}.x`;
  return `${Number(major)}.${Number(minor)}.${Number(patch)}`;
}

/**
 * An `Accept-Version` strategy that, unlike Fastify's built-in one, accepts `1` and `v1`, can serve
 * a default version to requests without the header, and lets unversioned routes (health checks,
 * docs) answer requests that carry it. Pass it as `Fastify({ constraints: { version: ... } })`.
 */
export function acceptVersionStrategy(options: AcceptVersionStrategyOptions = {}): VersionConstraintStrategy {
  const raw =
    options.defaultVersion === undefined ? undefined : check.nonEmptyString('defaultVersion', options.defaultVersion);
  const fallback = raw === undefined ? undefined : normalizeVersionRange(raw);
  if (raw !== undefined && fallback === undefined) {
    throw new InvalidOptionError('defaultVersion', raw, 'a version such as "1", "1.x" or "1.2.0"');
  }
  return {
    name: 'version',
    // false: a versioned request may still reach a route that has no version at all.
    mustMatchWhenDerived: false,
    storage: () => new SemverStore(),
    validate(value: unknown) {
      if (typeof value !== 'string' || !EXACT.test(value)) {
        throw new InvalidOptionError('constraints.version', value, 'an exact version such as "1.2.0"');
      }
    },
    deriveConstraint(req: { headers: Record<string, string | string[] | undefined> }): string | undefined {
      const header = req.headers['accept-version'];
      if (typeof header !== 'string' || header === '') return fallback;
      // An unparseable value must not silently fall back to the default: it matches nothing.
      return normalizeVersionRange(header) ?? `invalid:${header}`;
    },
  } as VersionConstraintStrategy;
}

interface Best {
  version: [number, number, number];
  handler: unknown;
}

/** Stores handlers by exact version and answers ranges with the highest matching version. */
class SemverStore {
  readonly #exact = new Map<string, unknown>();
  readonly #ranges = new Map<string, Best>();

  get(value: string): unknown {
    return this.#exact.get(value) ?? this.#ranges.get(value)?.handler ?? null;
  }

  set(value: string, handler: unknown): void {
    const match = EXACT.exec(value);
    if (match === null) throw new InvalidOptionError('constraints.version', value, 'an exact version such as "1.2.0"');
    const version = [Number(match[1]), Number(match[2]), Number(match[3])] as [number, number, number];
    this.#exact.set(version.join('.'), handler);
    for (const key of ['*', `${version[0]}.x`, `${version[0]}.${version[1]}.x`]) {
      const best = this.#ranges.get(key);
      if (best === undefined || compare(version, best.version) >= 0) this.#ranges.set(key, { version, handler });
    }
  }
}

function compare(a: [number, number, number], b: [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}
