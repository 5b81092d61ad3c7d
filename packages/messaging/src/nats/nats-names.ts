import { createHash } from 'node:crypto';

const plainToken = /^[\w-]+$/;

/**
 * A name JetStream accepts for a stream or a durable consumer (no `.`, `*`, `>`, `/`, `\` or
 * whitespace: the server uses these names in subjects and file names). A value made only of
 * letters, digits, `_` and `-` is kept as it is; any other gets its other characters replaced and a
 * short hash of the original appended, so that two different values never share a name.
 */
export function jetStreamName(value: string): string {
  if (plainToken.test(value) && value.length <= 64) return value;
  const hash = createHash('sha256').update(value).digest('hex').slice(0, 10);
  return `${value.replace(/[^\w-]/g, '_').slice(0, 64)}_${hash}`;
}

/** Why `topic` cannot be a NATS subject token sequence (an empty token), or `undefined` when it can. */
export function subjectProblem(topic: string): string | undefined {
  if (topic.startsWith('.') || topic.endsWith('.') || topic.includes('..')) {
    return 'a topic name whose "."-separated parts are not empty (each part is a NATS subject token)';
  }
  return undefined;
}
