// The page's link to this laptop's Quorum service: the API client, the node's status kept live
// from the event stream, which class is open, and one place that tells the other managers when a
// class changed (debounced), so each re-reads what it shows.
import type { ClassStatus, NodeStatus } from '../../../shared/api';
import type { ApiClient, ApiConnection } from '../lib/api-client';
import { explainError } from '../lib/errors';

/** How long after the last event the views are re-read: one read for a burst of applied entries. */
const CHANGE_DEBOUNCE_MS = 120;
/** Status events arrive every second while the node has classes; without them, ask. */
const STATUS_POLL_MS = 2000;
/** The leader is "in touch" when heard from within this long (the election timeout is ~0.7 s). */
const LEADER_CONTACT_OK_MS = 3000;
const SELECTED_CLASS_KEY = 'quorum.selectedClass';

type ClassListener = (classId: string) => void;
type OutboxListener = (classId: string, pending: number) => void;

export class Session {
  /** How this page reaches the peer; null until start(). */
  connection = $state<ApiConnection | null>(null);
  /** The node's status: this laptop, its classes; null until the first answer. */
  node = $state<NodeStatus | null>(null);
  /** A sentence when this laptop's Quorum service does not answer; null when it does. */
  problem = $state<string | null>(null);
  /** The class the screens show. */
  selectedClassId = $state<string | null>(null);

  readonly classStatus: ClassStatus | null = $derived(this.node?.classes.find((c) => c.classId === this.selectedClassId) ?? null);
  /** Whether this laptop can reach the class's leader now (so writes are saved at once). */
  readonly classConnected: boolean = $derived(isInTouch(this.classStatus));

  private readonly changeListeners = new Set<ClassListener>();
  private readonly outboxListeners = new Set<OutboxListener>();
  private readonly changeTimers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly appliedSeen = new Map<string, number>();
  private lastStatusAt = 0;
  private started = false;

  /** Whether the API can be called: started, with a way to the peer. */
  get ready(): boolean {
    return this.connection !== null && this.connection.kind !== 'unavailable';
  }

  /** The API client; only call when `ready`. */
  get client(): ApiClient {
    if (this.connection === null || this.connection.kind === 'unavailable') throw new Error('Quorum is not connected');
    return this.connection.client;
  }

  /** Connect to the service and follow its events. Idempotent. */
  start(connection: ApiConnection): void {
    if (this.started) return;
    this.started = true;
    this.connection = connection;
    if (connection.kind === 'unavailable') return;
    const { client } = connection;
    client.on('status', (status) => this.statusArrived(status));
    client.on('applied', ({ classId, index }) => {
      this.appliedSeen.set(classId, Math.max(index, this.appliedSeen.get(classId) ?? 0));
      this.classChanged(classId);
    });
    client.on('outbox', ({ classId, pending }) => {
      this.patchClass(classId, { outbox: pending });
      for (const listener of this.outboxListeners) listener(classId, pending);
    });
    // Events sent while the stream was down are lost: re-read everything when it comes back.
    const watch = (client as { onConnectionChange?: (listener: (connected: boolean) => void) => () => void }).onConnectionChange;
    watch?.call(client, (connected) => {
      if (connected) void this.refreshStatus().then(() => this.allClassesChanged());
    });
    void this.refreshStatus();
    setInterval(() => {
      if (Date.now() - this.lastStatusAt > STATUS_POLL_MS) void this.refreshStatus();
    }, STATUS_POLL_MS);
  }

  /** Read the node's status now. */
  async refreshStatus(): Promise<void> {
    try {
      const node = await this.client.methods.status({});
      this.lastStatusAt = Date.now();
      const wasDown = this.problem !== null;
      this.problem = null;
      this.node = node;
      this.chooseClass();
      for (const status of node.classes) this.noteApplied(status);
      if (wasDown) this.allClassesChanged();
    } catch (error) {
      this.problem = explainError(error);
    }
  }

  /** Show `classId` (a class of this laptop). */
  selectClass(classId: string): void {
    if (this.selectedClassId === classId) return;
    this.selectedClassId = classId;
    try {
      localStorage.setItem(SELECTED_CLASS_KEY, classId);
    } catch {
      // Storage may be off; the choice then lasts as long as the page.
    }
    this.classChanged(classId, 0);
  }

  /** Hear when a class changed (applied entries, reconnection, selection); returns the unsubscribe function. */
  onClassChanged(listener: ClassListener): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Hear when a class's outbox (this laptop's writes not yet saved) changes size. */
  onOutbox(listener: OutboxListener): () => void {
    this.outboxListeners.add(listener);
    return () => this.outboxListeners.delete(listener);
  }

  /** Tell every listener that `classId` changed, after `delayMs` (calls within it are merged). */
  classChanged(classId: string, delayMs = CHANGE_DEBOUNCE_MS): void {
    const pending = this.changeTimers.get(classId);
    if (pending !== undefined) clearTimeout(pending);
    this.changeTimers.set(
      classId,
      setTimeout(() => {
        this.changeTimers.delete(classId);
        for (const listener of this.changeListeners) listener(classId);
      }, delayMs),
    );
  }

  private allClassesChanged(): void {
    for (const status of this.node?.classes ?? []) this.classChanged(status.classId, 0);
  }

  private statusArrived(status: ClassStatus): void {
    this.lastStatusAt = Date.now();
    this.problem = null;
    if (!this.node) return;
    const known = this.node.classes.some((c) => c.classId === status.classId);
    this.node.classes = known ? this.node.classes.map((c) => (c.classId === status.classId ? status : c)) : [...this.node.classes, status];
    if (!known) this.chooseClass();
    for (const listener of this.outboxListeners) listener(status.classId, status.outbox);
    this.noteApplied(status);
  }

  /** A class whose applied index moved since we last looked has changed (covers lost events). */
  private noteApplied(status: ClassStatus): void {
    const seen = this.appliedSeen.get(status.classId);
    if (seen === undefined || status.applied > seen) {
      this.appliedSeen.set(status.classId, status.applied);
      this.classChanged(status.classId);
    }
  }

  private patchClass(classId: string, patch: Partial<ClassStatus>): void {
    if (!this.node) return;
    this.node.classes = this.node.classes.map((c) => (c.classId === classId ? { ...c, ...patch } : c));
  }

  /** Keep the chosen class, else the one chosen last time, else the first. */
  private chooseClass(): void {
    const classes = this.node?.classes ?? [];
    if (classes.some((c) => c.classId === this.selectedClassId)) return;
    let remembered: string | null = null;
    try {
      remembered = localStorage.getItem(SELECTED_CLASS_KEY);
    } catch {
      remembered = null;
    }
    const choice = classes.find((c) => c.classId === remembered) ?? classes[0];
    if (choice) this.selectClass(choice.classId);
  }
}

/** Whether a class's leader is this laptop or was heard from recently. */
export function isInTouch(status: ClassStatus | null): boolean {
  if (!status || status.leader === null) return false;
  if (status.role === 'leader') return true;
  return status.leaderContactMs !== null && status.leaderContactMs < LEADER_CONTACT_OK_MS;
}

export const session = new Session();
