// The last bytes of a remote command's output stream, in bounded memory: a command that prints
// without end costs the runner at most `capBytes` (and one chunk) per stream. Pure.

export interface KeptTail {
  /** The kept bytes as text; once anything was dropped, from the first whole line in them. */
  text: string;
  /** Bytes before `text` that were not kept. */
  droppedBytes: number;
}

export class OutputTail {
  private readonly chunks: Buffer[] = [];
  private keptBytes = 0;
  private totalBytes = 0;
  /** One byte more than the cap: the byte before the tail says whether the tail starts a line. */
  private readonly windowBytes: number;

  constructor(private readonly capBytes: number) {
    this.windowBytes = capBytes + 1;
  }

  push(chunk: Buffer): void {
    this.totalBytes += chunk.length;
    // A copy: the transport's chunk may be a view that keeps a larger packet buffer alive.
    const copy = Buffer.from(chunk.subarray(Math.max(0, chunk.length - this.windowBytes)));
    this.chunks.push(copy);
    this.keptBytes += copy.length;
    while (this.keptBytes - this.chunks[0]!.length >= this.windowBytes) this.keptBytes -= this.chunks.shift()!.length;
  }

  /** At most the last `capBytes`; a line the cap cut is dropped whole, so callers see whole lines. */
  result(): KeptTail {
    const window = Buffer.concat(this.chunks).subarray(-this.windowBytes);
    let kept = window;
    if (this.totalBytes > this.capBytes) {
      const newline = window.indexOf(0x0a);
      kept = newline >= 0 ? window.subarray(newline + 1) : window.subarray(1);
    }
    return { text: kept.toString('utf8'), droppedBytes: this.totalBytes - kept.length };
  }
}
