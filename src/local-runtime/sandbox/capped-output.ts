// A command's captured output: stdout and stderr interleaved as they arrive, of which
// only the first `cap` bytes are kept; the rest is counted and reported by a marker.

export class CappedOutput {
  readonly #chunks: Buffer[] = [];
  #room: number;
  #dropped = 0;

  constructor(capBytes: number) {
    this.#room = capBytes;
  }

  readonly add = (chunk: Buffer): void => {
    if (this.#dropped === 0 && chunk.length <= this.#room) {
      this.#chunks.push(chunk);
      this.#room -= chunk.length;
      return;
    }
    const keep = this.#dropped === 0 ? utf8Boundary(chunk, this.#room) : 0;
    if (keep > 0) this.#chunks.push(chunk.subarray(0, keep));
    this.#room = 0;
    this.#dropped += chunk.length - keep;
  };

  get truncated(): boolean {
    return this.#dropped > 0;
  }

  text(): string {
    const kept = Buffer.concat(this.#chunks).toString('utf8');
    return this.truncated ? `${kept}\n[output truncated: ${this.#dropped} bytes dropped]` : kept;
  }
}

/** The largest cut ≤ `end` that does not split a multi-byte UTF-8 character. */
function utf8Boundary(buffer: Buffer, end: number): number {
  let cut = end;
  while (cut > 0 && ((buffer[cut] ?? 0) & 0xc0) === 0x80) cut -= 1;
  return cut;
}
