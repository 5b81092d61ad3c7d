import type { HealthStatus } from './status.js';

/** What a check function receives. */
export interface CheckContext {
  /** Name the check was registered under. */
  readonly name: string;
  /** Aborts when the check runs past its timeout: pass it on so the work underneath stops too. */
  readonly signal: AbortSignal;
}

/**
 * What a check function may return. `status` accepts pass/warn/fail, common spellings
 * (`ok`, `healthy`, `unhealthy`, `error`, `degraded`, …) and booleans. Returning nothing counts as
 * pass; throwing, rejecting or timing out counts as fail.
 */
export interface CheckOutcome {
  status: string | boolean;
  /** Human-readable detail, shown as `output` in application/health+json. */
  message?: string;
  /** Same as `message` (the draft's name); `message` wins when both are set. */
  output?: string;
  /** A measured value, e.g. a latency or a connection count. */
  observedValue?: unknown;
  /** Unit of `observedValue`, e.g. `ms` or `percent`. */
  observedUnit?: string;
  /** Extra fields, shown only in the detailed report. */
  details?: Record<string, unknown>;
}

export type CheckReturn = CheckOutcome | boolean | void | undefined;

export type CheckFunction = (context: CheckContext) => CheckReturn | Promise<CheckReturn>;

/** Options of one registered check. */
export interface CheckOptions {
  /**
   * A failing critical check fails the whole report (and readiness); a failing non-critical one
   * only turns it to warn.
   * @default false
   */
  critical?: boolean;
  /**
   * Longest time the check may run before it counts as failed (`CHECK_TIMEOUT`) and its signal aborts.
   * @default the service's `defaultTimeoutMs` (5000)
   */
  timeoutMs?: number;
  /**
   * How long a result is reused before the check runs again.
   * @default the service's `cacheTtlMs` (1000)
   */
  cacheTtlMs?: number;
  /** Labels to select checks by, e.g. `['db', 'external']`. @default [] */
  tags?: string[];
  /** The draft's `componentType`, e.g. `datastore`, `component`, `system`. @default undefined */
  componentType?: string;
  /** The draft's `componentId`, e.g. a host or instance id. @default undefined */
  componentId?: string;
  /**
   * The draft's measurement name: the report keys the check as `"name:measurement"`
   * (e.g. `postgres:responseTime`). @default undefined (keyed by name)
   */
  measurement?: string;
}

/** One check's result. */
export interface CheckResult {
  name: string;
  status: HealthStatus;
  critical: boolean;
  tags: readonly string[];
  componentType?: string;
  componentId?: string;
  measurement?: string;
  output?: string;
  observedValue?: unknown;
  observedUnit?: string;
  details?: Record<string, unknown>;
  /** Why the check failed, when it threw, timed out or returned something invalid. */
  error?: { code?: string; message: string };
  /** Wall time the check took, in milliseconds. */
  durationMs: number;
  /** When the check finished (ISO 8601). */
  time: string;
  /** True when this result was served from the cache rather than run for this report. */
  cached: boolean;
}

/** Results of a set of checks and their aggregate status. */
export interface HealthReport {
  /** fail if any critical check failed; warn if any other check failed or warned; else pass. */
  status: HealthStatus;
  checks: CheckResult[];
  /** When the report was produced (ISO 8601). */
  time: string;
  durationMs: number;
  /** Why the report is what it is when no check says so (e.g. `shutting down`). */
  output?: string;
}

/** Which checks a run covers. */
export interface RunOptions {
  /** Only critical checks (readiness). @default false */
  criticalOnly?: boolean;
  /** Only checks carrying at least one of these tags. @default every check */
  tags?: string[];
  /** Only these checks. @throws UNKNOWN_CHECK for a name that is not registered. @default every check */
  names?: string[];
  /** Ignore cached results and run the checks now. @default false */
  fresh?: boolean;
}
