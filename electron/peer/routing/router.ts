// Where a write goes: proposed here if this laptop leads, else forwarded to the leader. Every
// write first lands in the outbox with its sequence number, so it survives a restart and a
// retry is applied exactly once; it leaves the outbox in the transaction that applies it here
// (read-your-writes). While no leader can be reached, writes stay pending and are delivered
// by a background loop when the class is reachable again.
import { NotLeaderError, ProposalDroppedError } from '../../raft';
import type { RaftGroup } from '../group/raft-group';
import type { Logger } from '../transport/types';
import { encodeEnvelope } from './envelope';
import { stampWrite } from './leader-stamp';
import { decodeForwardReply, encodeForwardRequest, type ForwardReply } from './forward-protocol';
import type { Outbox, OutboxItem } from './outbox';
import { withTimeout } from '../util/with-timeout';

/** Sends a request to a laptop and resolves with its answer; rejects on timeout or disconnect. */
export type RequestSender = (laptopId: string, payload: Uint8Array, timeoutMs: number) => Promise<Uint8Array>;

export interface RouterOptions {
  group: RaftGroup<unknown>;
  outbox: Outbox;
  request: RequestSender;
  logger: Logger;
  /** How long one delivery attempt may take before it is retried. */
  attemptTimeoutMs?: number;
  /** Writes delivered at once; more wait their turn. */
  maxInFlight?: number;
  /** Called when the outbox size changed. */
  onOutboxChange?: (pending: number) => void;
  /**
   * Before a write is forwarded to `leader`: whatever must be in place first (the leader holding
   * the files it refers to). A rejection means "not yet": the write is tried again later.
   */
  beforeForwarding?: (command: Uint8Array, leader: string) => Promise<void>;
}

export type WriteOutcome = { status: 'applied'; index: number; seq: number } | { status: 'pending'; seq: number };

interface Delivery {
  done: Promise<number>;
  resolve: (index: number) => void;
}

export class Router {
  private readonly inFlight = new Set<number>();
  private readonly deliveries = new Map<number, Delivery>();
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  private retryDelayMs = 50;
  private stopped = false;
  /**
   * While set, writes up to this sequence number are delivered one at a time, oldest first. A
   * person's writes made while the class was away (a draft, then turning it in) must apply in
   * the order they were made, and concurrent retries could overtake one another. Set when a
   * write could not be delivered (and at start, for writes left from before); newer writes go
   * concurrently again once these are through.
   */
  private inOrderThrough: number | null = null;

  constructor(private readonly options: RouterOptions) {}

  /** Start delivering whatever the outbox holds from before a restart. */
  start(): void {
    this.keepOrderOfWaiting();
    this.pump();
  }

  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  /** The class's state changed (a new leader, a reconnection): try the pending writes now. */
  nudge(): void {
    this.retryDelayMs = 50;
    this.pump();
  }

  /**
   * Record `command` durably and deliver it. Resolves `applied` once this laptop applied it, or
   * `pending` after `waitMs` if the class can't be reached; a pending write is still delivered.
   */
  async write(command: Uint8Array, waitMs: number): Promise<WriteOutcome> {
    const item = this.options.outbox.add(command);
    this.options.onOutboxChange?.(this.options.outbox.size());
    const delivery = this.deliveryFor(item.seq);
    this.pump();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), waitMs)));
    const index = await Promise.race([delivery.done, timeout]);
    clearTimeout(timer);
    if (index !== null) return { status: 'applied', index, seq: item.seq };
    // "Pending" promises the write is kept: on disk before the caller hears it.
    if (this.options.outbox.has(item.seq)) this.options.outbox.sync();
    return { status: 'pending', seq: item.seq };
  }

  private deliveryFor(seq: number): Delivery {
    let delivery = this.deliveries.get(seq);
    if (!delivery) {
      let resolve!: (index: number) => void;
      const done = new Promise<number>((r) => (resolve = r));
      delivery = { done, resolve };
      this.deliveries.set(seq, delivery);
    }
    return delivery;
  }

  /** Start delivering every pending write not already on its way, oldest first. */
  private pump(): void {
    if (this.stopped) return;
    if (this.inOrderThrough !== null) {
      const oldest = this.options.outbox.pending().next();
      if (oldest.done || oldest.value.seq > this.inOrderThrough) {
        this.inOrderThrough = null;
      } else {
        if (this.inFlight.size === 0) this.startDelivery(oldest.value);
        return;
      }
    }
    const max = this.options.maxInFlight ?? 256;
    for (const item of this.options.outbox.pending()) {
      if (this.inFlight.size >= max) break;
      if (this.inFlight.has(item.seq)) continue;
      this.startDelivery(item);
    }
  }

  private startDelivery(item: OutboxItem): void {
    this.inFlight.add(item.seq);
    void this.deliver(item).then((delivered) => {
      this.inFlight.delete(item.seq);
      // In order: the next waiting write goes once this one is through (a failure waits for the retry timer).
      if (delivered && this.inOrderThrough !== null) this.pump();
    });
  }

  /** Deliver everything waiting now in order (see `inOrderThrough`). */
  private keepOrderOfWaiting(): void {
    let last: number | null = null;
    for (const item of this.options.outbox.pending()) last = item.seq;
    if (last !== null) this.inOrderThrough = Math.max(this.inOrderThrough ?? 0, last);
  }

  /** Whether it was applied; a failure has scheduled the retry. Never rejects. */
  private async deliver(item: OutboxItem): Promise<boolean> {
    const { group, outbox } = this.options;
    const envelope = encodeEnvelope({
      clientId: outbox.clientId,
      seq: item.seq,
      ackedBelow: outbox.lowestUnanswered(),
      command: item.command,
    });
    let index: number | null = null;
    try {
      index = await this.attempt(envelope, item.command);
    } catch (error) {
      this.options.logger.debug('write not delivered yet', { seq: item.seq, reason: String(error) });
    }
    if (index === null || this.stopped) {
      this.keepOrderOfWaiting();
      this.scheduleRetry();
      return false;
    }
    await group.waitApplied(index);
    // Applying it here removed it from the outbox, unless the entry was not this write's
    // envelope as this laptop sent it (a snapshot covered it): then the answer is enough.
    if (outbox.has(item.seq)) outbox.remove(item.seq);
    this.options.onOutboxChange?.(outbox.size());
    this.deliveryFor(item.seq).resolve(index);
    this.deliveries.delete(item.seq);
    this.retryDelayMs = 50;
    return true;
  }

  /** One try: the index the write was applied at, or null when no leader took it. */
  private async attempt(envelope: Uint8Array, command: Uint8Array): Promise<number | null> {
    const { group } = this.options;
    const timeoutMs = this.options.attemptTimeoutMs ?? 3000;
    if (group.isLeader()) {
      try {
        const applied = await withTimeout(group.propose(stampWrite(envelope, Date.now())), timeoutMs);
        return applied.index;
      } catch (error) {
        if (error instanceof NotLeaderError || error instanceof ProposalDroppedError) return null;
        throw error;
      }
    }
    const leader = group.leader();
    if (leader === null) return null;
    await this.options.beforeForwarding?.(command, leader);
    const bytes = await this.options.request(leader, encodeForwardRequest({ kind: 'write', envelope }), timeoutMs);
    const reply: ForwardReply | null = decodeForwardReply(bytes);
    if (reply?.kind === 'applied') return reply.index;
    return null;
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.pump();
    }, this.retryDelayMs);
    this.retryDelayMs = Math.min(2000, this.retryDelayMs * 2);
  }
}
