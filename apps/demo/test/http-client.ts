/** A response read whole: status, headers and the parsed JSON body (undefined when empty). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are untyped JSON; tests assert their shape
export interface JsonResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** Minimal JSON client over real HTTP (global fetch), bound to one base URL. */
export function httpClient(
  baseUrl: string,
): (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<JsonResponse> {
  return async (method, path, body, headers = {}) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text === '' ? undefined : (JSON.parse(text) as unknown),
    };
  };
}
