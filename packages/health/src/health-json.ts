import { InvalidOptionError, check } from './errors.js';
import { checkStatus, type HealthStatus } from './status.js';
import type { CheckResult, HealthReport } from './types.js';

/** Media type of the health check response format (draft-inadarei-api-health-check). */
export const HEALTH_JSON_CONTENT_TYPE = 'application/health+json';

/** One entry of the draft's `checks` object. */
export interface HealthJsonCheck {
  status: HealthStatus;
  time: string;
  componentId?: string;
  componentType?: string;
  observedValue?: unknown;
  observedUnit?: string;
  output?: string;
  critical?: boolean;
  tags?: readonly string[];
  details?: Record<string, unknown>;
}

/** A body in the application/health+json format. */
export interface HealthJson {
  status: HealthStatus;
  version?: string;
  releaseId?: string;
  serviceId?: string;
  description?: string;
  output?: string;
  checks?: Record<string, HealthJsonCheck[]>;
}

/** Service-level fields of the draft, shown on every response. */
export interface HealthJsonServiceInfo {
  /** Public version of the service (`version`). @default undefined */
  version?: string;
  /** Release of the implementation, e.g. a commit hash (`releaseId`). @default undefined */
  releaseId?: string;
  /** Unique identifier of the service (`serviceId`). @default undefined */
  serviceId?: string;
  /** Human-friendly description of the service (`description`). @default undefined */
  description?: string;
}

/**
 * Renders a report in the application/health+json format. Without `detailed`, only the status
 * and service-level fields are shown: check names, outputs and observed values stay private.
 */
export function toHealthJson(report: HealthReport, detailed: boolean, info: HealthJsonServiceInfo = {}): HealthJson {
  check.plainObject('report', report);
  check.boolean('detailed', detailed);
  check.plainObject('info', info);
  const body: HealthJson = { status: checkStatus('report.status', report.status) };
  const given: unknown = report.checks;
  if (!Array.isArray(given)) throw new InvalidOptionError('report.checks', given, 'an array of check results');
  if (info.version !== undefined) body.version = info.version;
  if (info.releaseId !== undefined) body.releaseId = info.releaseId;
  if (info.serviceId !== undefined) body.serviceId = info.serviceId;
  if (info.description !== undefined) body.description = info.description;
  if (!detailed) return body;
  if (report.output !== undefined) body.output = report.output;
  const checks: Record<string, HealthJsonCheck[]> = {};
  for (const result of report.checks) {
    // The draft keys checks as "component:measurement"; a check without a measurement uses its name.
    const key = result.measurement === undefined ? result.name : `${result.name}:${result.measurement}`;
    (checks[key] ??= []).push(entry(result));
  }
  body.checks = checks;
  return body;
}

function entry(result: CheckResult): HealthJsonCheck {
  const item: HealthJsonCheck = { status: result.status, time: result.time, critical: result.critical };
  if (result.componentId !== undefined) item.componentId = result.componentId;
  if (result.componentType !== undefined) item.componentType = result.componentType;
  if (result.observedValue !== undefined) item.observedValue = result.observedValue;
  if (result.observedUnit !== undefined) item.observedUnit = result.observedUnit;
  if (result.output !== undefined) item.output = result.output;
  if (result.tags.length > 0) item.tags = result.tags;
  if (result.details !== undefined) item.details = result.details;
  return item;
}

/** HTTP status for a report: 503 when it fails, 200 otherwise (warn still serves traffic). */
export function httpStatusOf(status: HealthStatus): number {
  return checkStatus('status', status) === 'fail' ? 503 : 200;
}
