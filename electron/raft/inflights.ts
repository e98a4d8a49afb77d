/**
 * The append messages sent to one follower and not yet acknowledged, by the last index each
 * carried. Bounded by count and by bytes so a slow laptop never makes the leader queue
 * without limit.
 */
export class Inflights {
  private readonly items: { index: number; bytes: number }[] = [];
  private bytes = 0;

  constructor(
    private readonly maxCount: number,
    private readonly maxBytes: number,
  ) {}

  get count(): number {
    return this.items.length;
  }

  full(): boolean {
    return this.items.length >= this.maxCount || this.bytes >= this.maxBytes;
  }

  add(index: number, bytes: number): void {
    this.items.push({ index, bytes });
    this.bytes += bytes;
  }

  /** Forget every message whose last index is ≤ `index` (acknowledged). */
  freeLE(index: number): void {
    let n = 0;
    while (n < this.items.length && this.items[n]!.index <= index) {
      this.bytes -= this.items[n]!.bytes;
      n++;
    }
    if (n > 0) this.items.splice(0, n);
  }

  /** Forget the oldest message, so a window filled by messages that were all lost can move again. */
  freeFirstOne(): void {
    if (this.items.length > 0) this.freeLE(this.items[0]!.index);
  }

  reset(): void {
    this.items.length = 0;
    this.bytes = 0;
  }
}
