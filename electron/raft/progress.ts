import { Inflights } from './inflights';
import type { ProgressState, ProgressStatus, Snapshot } from './types';

/** A snapshot being streamed to one follower, in chunks. */
export interface SnapshotTransfer {
  snapshot: Snapshot;
  /** Bytes sent so far in this attempt (runs ahead of `acked` by the chunk window). */
  sent: number;
  /** The highest byte count the follower confirmed holding in this attempt. */
  acked: number;
  /** The follower's latest answer in this attempt, which may be below `acked` after a restart. */
  lastReported: number;
  /** Leader ticks since `acked` last moved; past a limit the transfer resumes as a new attempt. */
  idleTicks: number;
  /** Bumped whenever the leader rewinds, so answers to chunks of an earlier attempt are ignored. */
  attempt: number;
}

/**
 * The leader's view of one follower.
 * - probe: we don't know where its log matches; send one append per heartbeat and learn.
 * - replicate: its log matches up to `match`; stream appends optimistically within a window.
 * - snapshot: it needs entries we compacted; stream a snapshot, then probe again.
 * Invariant: match < next.
 */
export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In probe state: an append was sent and we wait for its answer or a heartbeat. */
  probeSent = false;
  /** Whether we heard from it since the last CheckQuorum round. */
  recentActive = false;
  transfer: SnapshotTransfer | null = null;
  readonly inflights: Inflights;

  constructor(
    next: number,
    public isLearner: boolean,
    maxInflightMsgs: number,
    maxInflightBytes: number,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflightMsgs, maxInflightBytes);
  }

  private resetState(state: ProgressState): void {
    this.probeSent = false;
    this.transfer = null;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // Coming back from a snapshot, the follower holds at least the snapshot's entries.
    const snapshotIndex = this.transfer?.snapshot.meta.index ?? 0;
    const wasSnapshot = this.state === 'snapshot';
    this.resetState('probe');
    this.next = wasSnapshot ? Math.max(this.match + 1, snapshotIndex + 1) : this.match + 1;
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshot: Snapshot): void {
    this.resetState('snapshot');
    this.transfer = { snapshot, sent: 0, acked: 0, lastReported: 0, idleTicks: 0, attempt: 0 };
  }

  get pendingSnapshot(): number {
    return this.transfer?.snapshot.meta.index ?? 0;
  }

  /** The follower acknowledged entries up to `index`; false if that is old news. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.probeSent = false;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * The follower rejected an append probing at `rejected`; `matchHint` is where its log may
   * match. Returns false when the rejection is stale (for a message already superseded).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.probeSent = false;
    return true;
  }

  /** Record that an append carrying `count` entries ending at `lastIndex` was sent. */
  sentEntries(count: number, lastIndex: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  /** Whether sending appends to it should wait. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }

  toStatus(): ProgressStatus {
    return {
      match: this.match,
      next: this.next,
      state: this.state,
      isLearner: this.isLearner,
      recentActive: this.recentActive,
      inflight: this.inflights.count,
      pendingSnapshot: this.pendingSnapshot,
    };
  }
}
