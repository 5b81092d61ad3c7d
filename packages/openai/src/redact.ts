/**
 * Removes API keys from text that may reach a log, an error or an event. Upstream error messages
 * quote the key they refused ("Incorrect API key provided: sk-..."), so both the configured key
 * and anything shaped like an OpenAI key are replaced.
 */
const KEY_PATTERN = /\b(?:sk|sess|rk)-[A-Za-z0-9_*-]{6,}/g;

export function redact(text: string, secret?: string | null): string {
  let out = text;
  if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  return out.replace(KEY_PATTERN, '[redacted]');
}
