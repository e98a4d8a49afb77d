// The bounded queue in front of a slow peer. Raft retransmits whatever matters, so when a peer
// falls behind the right move is to drop new messages, not to buffer without bound.

/** Frames waiting for the socket, limited by their total size in bytes. */
export class SendQueue {
  private frames: Uint8Array[] = [];
  private head = 0;
  private totalBytes = 0;

  constructor(readonly limitBytes: number) {}

  /** Bytes waiting. Invariant: bytes <= limitBytes. */
  get bytes(): number {
    return this.totalBytes;
  }

  get length(): number {
    return this.frames.length - this.head;
  }

  /** Appends `frame` unless it would take the queue past its limit; false means it was dropped. */
  push(frame: Uint8Array): boolean {
    if (this.totalBytes + frame.byteLength > this.limitBytes) return false;
    this.frames.push(frame);
    this.totalBytes += frame.byteLength;
    return true;
  }

  /** Removes and returns the oldest frame. */
  shift(): Uint8Array | undefined {
    if (this.head >= this.frames.length) return undefined;
    const frame = this.frames[this.head];
    this.frames[this.head] = EMPTY; // let the frame be collected
    this.head++;
    this.totalBytes -= frame.byteLength;
    // Compact now and then instead of Array.shift's copy per call.
    if (this.head > 1024 && this.head * 2 > this.frames.length) {
      this.frames = this.frames.slice(this.head);
      this.head = 0;
    }
    return frame;
  }

  clear(): void {
    this.frames = [];
    this.head = 0;
    this.totalBytes = 0;
  }
}

const EMPTY = new Uint8Array(0);
