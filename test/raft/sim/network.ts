// A deterministic in-memory network for Raft simulations, after etcd-raft's test network
// (`drop`, `cut`, `isolate`): every delay, loss and duplicate is drawn from one seeded
// RandomSource, so a seed replays the same run message for message.

import { entrySize, type Message, type NodeId, type RandomSource } from '../../../electron/raft/index';

/** How unreliable the network is. Delays are in ticks; 0 delivers within the same tick. */
export interface NetworkOptions {
  /** Smallest delivery delay. Default 0. */
  minDelay?: number;
  /** Largest delivery delay (inclusive); a spread reorders messages. Default 0. */
  maxDelay?: number;
  /** Probability that a message is lost. Default 0. */
  dropRate?: number;
  /** Probability that a message is delivered twice (each copy with its own delay). Default 0. */
  duplicateRate?: number;
  /** Probability that a message is held back for a long time (long reordering). Default 0. */
  longDelayRate?: number;
  /** Upper bound of a long delay, in ticks. Default 50. */
  longDelayTicks?: number;
}

/** A predicate over messages; returning true drops the message. */
export type DropRule = (message: Message) => boolean;

/** Counters for benchmarks and assertions. `bytes` is an estimate of the encoded size. */
export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  bytes: number;
}

/** Messages seen while a recording is active. */
export interface MessageRecording {
  /** Every message handed to the network (before any loss). */
  sent: Message[];
  /** Every message stepped into a node. */
  delivered: Message[];
  stop(): void;
}

interface InFlight {
  deliverAt: number;
  seq: number;
  message: Message;
}

const MESSAGE_HEADER_BYTES = 32;

/** Rough encoded size of a message: a fixed header plus entries and snapshot bytes. */
export function messageBytes(m: Message): number {
  let size = MESSAGE_HEADER_BYTES;
  if (m.type === 'app') for (const entry of m.entries) size += entrySize(entry);
  else if (m.type === 'snap') size += m.data.byteLength + 64;
  else if (m.type === 'readIndex' || m.type === 'readIndexResp') size += m.requestId.length;
  return size;
}

/**
 * A copy that shares nothing with the original. Snapshot chunks are usually views into a
 * larger buffer; they are sliced first so the copy holds only the chunk's bytes.
 */
function copyMessage(m: Message): Message {
  if (m.type === 'snap') return structuredClone({ ...m, data: m.data.slice() });
  return structuredClone(m);
}

const pairKey = (from: NodeId, to: NodeId) => `${from}\u0000${to}`;

export class Network {
  private options: Required<NetworkOptions>;
  /** In flight, sorted by (deliverAt, seq). */
  private queue: InFlight[] = [];
  private seq = 0;
  /** Directed links that are down, as `from\0to`. */
  private readonly cutLinks = new Set<string>();
  /** Nodes that can neither send nor receive. */
  private readonly isolated = new Set<NodeId>();
  private readonly rules = new Set<DropRule>();
  private readonly recordings = new Set<MessageRecording>();
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, bytes: 0 };

  constructor(
    private readonly random: RandomSource,
    options: NetworkOptions = {},
  ) {
    this.options = Network.withDefaults(options);
  }

  private static withDefaults(options: NetworkOptions): Required<NetworkOptions> {
    return {
      minDelay: 0,
      maxDelay: 0,
      dropRate: 0,
      duplicateRate: 0,
      longDelayRate: 0,
      longDelayTicks: 50,
      ...options,
    };
  }

  /** Change how unreliable the network is from now on; messages in flight keep their delays. */
  configure(options: NetworkOptions): void {
    this.options = { ...this.options, ...options };
  }

  // ---- faults ----------------------------------------------------------------------------

  /** Messages from `from` to `to` are lost (one way). */
  cut(from: NodeId, to: NodeId): void {
    this.cutLinks.add(pairKey(from, to));
  }

  /** `id` can neither send nor receive. */
  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  /** No message crosses between the groups; with `oneWay`, only `groupA → groupB` is cut. */
  partition(groupA: NodeId[], groupB: NodeId[], { oneWay = false } = {}): void {
    for (const a of groupA) {
      for (const b of groupB) {
        this.cut(a, b);
        if (!oneWay) this.cut(b, a);
      }
    }
  }

  /** Drop every message matching `rule` until the returned function is called. */
  drop(rule: DropRule): () => void {
    this.rules.add(rule);
    return () => this.rules.delete(rule);
  }

  /** Restore every link and remove every drop rule. Loss, duplication and delays stay as configured. */
  heal(): void {
    this.cutLinks.clear();
    this.isolated.clear();
    this.rules.clear();
  }

  /** Whether a message from `from` to `to` would currently get through the partitions. */
  connected(from: NodeId, to: NodeId): boolean {
    return !this.isolated.has(from) && !this.isolated.has(to) && !this.cutLinks.has(pairKey(from, to));
  }

  // ---- traffic ---------------------------------------------------------------------------

  /** Record every message sent and delivered until `stop()` is called. */
  record(): MessageRecording {
    const recording: MessageRecording = {
      sent: [],
      delivered: [],
      stop: () => this.recordings.delete(recording),
    };
    this.recordings.add(recording);
    return recording;
  }

  /** Hand a message to the network at time `now`. */
  send(message: Message, now: number): void {
    this.stats.sent++;
    this.stats.bytes += messageBytes(message);
    for (const recording of this.recordings) recording.sent.push(message);
    if (!this.passes(message)) {
      this.stats.dropped++;
      return;
    }
    const { dropRate, duplicateRate } = this.options;
    if (dropRate > 0 && this.random() < dropRate) {
      this.stats.dropped++;
      return;
    }
    this.enqueue(copyMessage(message), now);
    if (duplicateRate > 0 && this.random() < duplicateRate) {
      this.stats.duplicated++;
      this.enqueue(copyMessage(message), now);
    }
  }

  /**
   * Take the next message due at `now` that still gets through the partitions, or null.
   * Messages whose link went down while they were in flight are lost.
   */
  nextDue(now: number): Message | null {
    while (this.queue.length > 0 && this.queue[0]!.deliverAt <= now) {
      const { message } = this.queue.shift()!;
      if (!this.passes(message)) {
        this.stats.dropped++;
        continue;
      }
      this.stats.delivered++;
      for (const recording of this.recordings) recording.delivered.push(message);
      return message;
    }
    return null;
  }

  /** Whether a message is due at `now`. */
  hasDue(now: number): boolean {
    return this.queue.length > 0 && this.queue[0]!.deliverAt <= now;
  }

  /** Lose everything in flight to or from `id` (it crashed). */
  discard(id: NodeId): void {
    const before = this.queue.length;
    this.queue = this.queue.filter((f) => f.message.to !== id && f.message.from !== id);
    this.stats.dropped += before - this.queue.length;
  }

  /** Number of messages in flight. */
  inFlight(): number {
    return this.queue.length;
  }

  private passes(message: Message): boolean {
    if (!this.connected(message.from, message.to)) return false;
    for (const rule of this.rules) if (rule(message)) return false;
    return true;
  }

  private delay(): number {
    const { minDelay, maxDelay, longDelayRate, longDelayTicks } = this.options;
    if (longDelayRate > 0 && this.random() < longDelayRate) {
      return maxDelay + 1 + Math.floor(this.random() * longDelayTicks);
    }
    if (maxDelay <= minDelay) return minDelay;
    return minDelay + Math.floor(this.random() * (maxDelay - minDelay + 1));
  }

  private enqueue(message: Message, now: number): void {
    const item: InFlight = { deliverAt: now + this.delay(), seq: this.seq++, message };
    // Binary search for the first item that is due strictly later (seq grows, so ties keep order).
    let lo = 0;
    let hi = this.queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.queue[mid]!.deliverAt <= item.deliverAt) lo = mid + 1;
      else hi = mid;
    }
    this.queue.splice(lo, 0, item);
  }
}
