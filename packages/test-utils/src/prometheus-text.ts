// A strict parser of the Prometheus text exposition format (0.0.4), used by the tests to prove
// that /metrics output is well-formed rather than to search it for substrings.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  types: Map<string, string>;
  help: Map<string, string>;
  samples: Sample[];
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const SAMPLE = new RegExp(`^(${NAME})(\\{(.*)\\})?\\s+(\\S+)(\\s+-?\\d+)?$`);
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(,|$)/y;

export function parsePrometheus(text: string): Exposition {
  const types = new Map<string, string>();
  const help = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const meta = /^#\s+(HELP|TYPE)\s+(\S+)\s*(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta as unknown as [string, string, string, string];
      if (kind === 'TYPE') {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest))
          throw new Error(`line ${index + 1}: bad type ${rest}`);
        types.set(name, rest);
      } else help.set(name, rest);
      continue;
    }
    if (line.startsWith('#')) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`line ${index + 1}: not a sample: ${line}`);
    const [, name = '', , body = '', raw = ''] = match;
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const start = LABEL.lastIndex;
      const label = LABEL.exec(body);
      if (!label || LABEL.lastIndex === start) throw new Error(`line ${index + 1}: bad labels: ${body}`);
      const [, key = '', escaped = ''] = label;
      labels[key] = escaped.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    }
    // Prometheus parses floats with Go's ParseFloat: NaN and Inf in any case.
    const special = raw.toLowerCase();
    const value =
      special === '+inf' || special === 'inf'
        ? Infinity
        : special === '-inf'
          ? -Infinity
          : special === 'nan'
            ? NaN
            : Number(raw);
    if (Number.isNaN(value) && special !== 'nan') throw new Error(`line ${index + 1}: bad value ${raw}`);
    const family = name.replace(/_(bucket|sum|count)$/, '');
    if (!types.has(name) && !types.has(family)) throw new Error(`line ${index + 1}: sample ${name} has no # TYPE`);
    samples.push({ name, labels, value });
  }
  return { types, help, samples };
}

/** The value of the one sample with this name and (at least) these labels. */
export function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number | undefined {
  const found = exposition.samples.filter(
    (s) => s.name === name && Object.entries(labels).every(([key, value]) => s.labels[key] === value),
  );
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
  return found[0]?.value;
}

/**
 * Families that measure the same quantity under two names: @infra/monitoring's process gauges and
 * prom-client's default metrics, and a request counter beside the request-duration histogram (whose
 * `_count` counts the same requests). Exporting both doubles what dashboards sum and alerts count.
 */
const SAME_QUANTITY: readonly (readonly [string, string])[] = [
  ['http_requests_total', 'http_request_duration_seconds'],
  ['perf_gc_duration_seconds', 'nodejs_gc_duration_seconds'],
  ['perf_heap_used_bytes', 'nodejs_heap_size_used_bytes'],
  ['perf_heap_total_bytes', 'nodejs_heap_size_total_bytes'],
  ['perf_rss_bytes', 'process_resident_memory_bytes'],
  ['perf_event_loop_delay_seconds', 'nodejs_eventloop_lag_seconds'],
];

/**
 * The metric families of a Prometheus text exposition that are exported more than once: a
 * `# TYPE` declared twice, a family whose samples are split into two groups, or two families
 * known to measure the same quantity. Empty when every family is exported once.
 */
export function duplicateFamilies(text: string): string[] {
  const found: string[] = [];
  const declared = new Set<string>();
  const closed = new Set<string>();
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const type = /^#\s+TYPE\s+(\S+)/.exec(line);
    if (type) {
      const name = type[1] ?? '';
      if (declared.has(name)) found.push(`${name}: # TYPE declared twice`);
      declared.add(name);
      if (current !== undefined) closed.add(current);
      current = name;
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)?.[1] ?? '';
    const family = declared.has(sample) ? sample : sample.replace(/_(bucket|sum|count|total|created)$/, '');
    if (family !== current) {
      if (closed.has(family) && !found.some((f) => f.startsWith(`${family}:`))) {
        found.push(`${family}: samples in two groups`);
      }
      if (current !== undefined) closed.add(current);
      current = family;
    }
  }
  for (const [a, b] of SAME_QUANTITY) {
    if (declared.has(a) && declared.has(b)) found.push(`${a} and ${b}: the same quantity under two names`);
  }
  return found;
}

/** Throws, naming every family exported more than once (see {@link duplicateFamilies}). */
export function assertNoDuplicateFamilies(text: string): void {
  const found = duplicateFamilies(text);
  if (found.length > 0) throw new Error(`metric families exported more than once:\n  ${found.join('\n  ')}`);
}
