/**
 * Reads how long a failed call asks to wait before the next attempt, in milliseconds:
 * an error's `retryAfterMs`, or its (or its response's) `retry-after-ms` / `retry-after` headers
 * (seconds or an HTTP date). Returns undefined when the error says nothing.
 */
export function retryAfterMs(error: unknown, now: number = Date.now()): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const record = error as { retryAfterMs?: unknown; headers?: unknown; response?: { headers?: unknown } };
  if (typeof record.retryAfterMs === 'number' && Number.isFinite(record.retryAfterMs) && record.retryAfterMs >= 0) {
    return record.retryAfterMs;
  }
  const headers = record.headers ?? record.response?.headers;
  if (typeof headers !== 'object' || headers === null) return undefined;

  const ms = Number(header(headers, 'retry-after-ms'));
  if (Number.isFinite(ms) && ms >= 0 && header(headers, 'retry-after-ms') !== undefined) return ms;

  const value = header(headers, 'retry-after');
  if (value === undefined || value.trim() === '') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function header(headers: object, name: string): string | undefined {
  const getter = (headers as { get?: unknown }).get;
  if (typeof getter === 'function') {
    const value: unknown = getter.call(headers, name);
    return typeof value === 'string' ? value : undefined;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? String(value[0]) : String(value);
  }
  return undefined;
}
