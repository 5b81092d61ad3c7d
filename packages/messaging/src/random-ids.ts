import { randomFillSync } from 'node:crypto';

/**
 * Random identifiers for every message (a UUID), made in batches: one
 * `getrandom()` call and one formatting loop per batch, then one flat string per identifier.
 * `crypto.randomUUID()` buffers its entropy the same way but assembles each string from 20
 * pieces, which leaves about 600 bytes of garbage per id; at hundreds of thousands of messages a
 * second that garbage is most of the publishing cost.
 */
const HEX = Buffer.from('0123456789abcdef', 'latin1');
const DASH = 0x2d;

type Format = (random: Buffer, from: number, text: Buffer, at: number) => void;

class IdPool {
  private readonly random: Buffer;
  private readonly text: Buffer;
  private next: number;

  constructor(
    private readonly width: number,
    private readonly entropy: number,
    private readonly format: Format,
    private readonly size = 128,
  ) {
    this.random = Buffer.allocUnsafe(entropy * size);
    this.text = Buffer.allocUnsafe(width * size);
    this.next = size;
  }

  take(): string {
    if (this.next === this.size) this.refill();
    const start = this.next++ * this.width;
    return this.text.toString('latin1', start, start + this.width);
  }

  private refill(): void {
    randomFillSync(this.random);
    for (let i = 0; i < this.size; i++) this.format(this.random, i * this.entropy, this.text, i * this.width);
    this.next = 0;
  }
}

/** Writes `count` bytes of `random` from `from` as lowercase hex at `at`; returns the end offset. */
function hex(random: Buffer, from: number, count: number, text: Buffer, at: number): number {
  for (let i = from; i < from + count; i++) {
    const byte = random[i] as number;
    text[at++] = HEX[byte >> 4] as number;
    text[at++] = HEX[byte & 15] as number;
  }
  return at;
}

/** RFC 9562 version 4: 122 random bits, `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`. */
function formatUuid(random: Buffer, from: number, text: Buffer, at: number): void {
  random[from + 6] = ((random[from + 6] as number) & 0x0f) | 0x40;
  random[from + 8] = ((random[from + 8] as number) & 0x3f) | 0x80;
  let end = hex(random, from, 4, text, at);
  text[end++] = DASH;
  end = hex(random, from + 4, 2, text, end);
  text[end++] = DASH;
  end = hex(random, from + 6, 2, text, end);
  text[end++] = DASH;
  end = hex(random, from + 8, 2, text, end);
  text[end++] = DASH;
  hex(random, from + 10, 6, text, end);
}

const uuids = new IdPool(36, 16, formatUuid);

/** A random (version 4) UUID, as `crypto.randomUUID()` makes. */
export function randomUuid(): string {
  return uuids.take();
}
