/** Events of a bus, for monitoring. Payloads are plain objects; listeners must not throw. */
export interface MessagingEvents {
  published: { topic: string; id: string; key: string | null };
  handled: { topic: string; group: string; id: string; attempts: number; durationMs: number };
  retried: { topic: string; group: string; id: string; attempt: number; delayMs: number; error: unknown };
  deadLettered: {
    topic: string;
    group: string;
    id: string;
    /** Where the message went; `null` when dead-lettering is off (the message was dropped). */
    deadLetterTopic: string | null;
    attempts: number;
    reason: DeadLetterReason;
    error: unknown;
  };
  /** Backlog of each subscription, every `lagIntervalMs`. */
  lag: { topic: string; group: string; pending: number; lag: number | null };
  /**
   * A failure the bus recovered from by itself (it retries or redelivers); `connection`: a
   * connection the adapter created failed (it reconnects).
   */
  error: {
    operation: 'subscribe' | 'fetch' | 'ack' | 'deadLetter' | 'close' | 'lag' | 'connection';
    topic?: string;
    group?: string;
    error: unknown;
  };
}

export type DeadLetterReason = 'handler' | 'validation' | 'deserialization';
