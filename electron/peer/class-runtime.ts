// One class on this laptop: its SQLite file, its Raft group, its outbox and router, and (when
// this laptop leads) the membership autopilot. The peer holds one per class it belongs to.
import { randomBytes } from 'node:crypto';
import { recoveryLog, seededRandom, type Message } from '../raft';
import { AdmissionRefusedError, Autopilot, type AutopilotOptions } from './autopilot';
import { RaftGroup } from './group/raft-group';
import { answerForward } from './routing/forward-handler';
import type { ForwardReply } from './routing/forward-protocol';
import { Outbox } from './routing/outbox';
import { ClassState, type ClassCommandResult, type ClassStateResult } from './routing/class-state';
import { Router, type RequestSender } from './routing/router';
import { SqliteStorage, type CompactionPolicy } from './storage';
import type { Logger } from './transport/types';
import { withTimeout } from './util/with-timeout';

/** Timing of the Raft group; the defaults aim at a failover well under two seconds on a LAN. */
export interface RaftTiming {
  tickMs: number;
  electionTicks: number;
  heartbeatTicks: number;
}

/** How long the leader waits to have applied all it committed before judging a newcomer. */
const ADMISSION_READ_MS = 2000;
/** Results of this laptop's own writes kept for their callers; the oldest go first. */
const MAX_KEPT_RESULTS = 1024;

export const DEFAULT_TIMING: RaftTiming = { tickMs: 50, electionTicks: 14, heartbeatTicks: 2 };
/** When a class's log is compacted into a snapshot. */
export const DEFAULT_COMPACTION: CompactionPolicy = { entries: 10_000, bytes: 16 * 1024 * 1024 };

export interface ClassRuntimeOptions {
  classId: string;
  laptopId: string;
  file: string;
  /** Create the class here as its only voter (a teacher creating a class). */
  bootstrap: boolean;
  timing: RaftTiming;
  send: (to: string, message: Message) => void;
  request: RequestSender;
  /** Laptops connected to us for this class now. */
  connectedPeers: () => string[];
  autopilot?: Partial<AutopilotOptions>;
  /** Snapshot sooner than DEFAULT_COMPACTION (tests that crash nodes mid-snapshot). */
  compaction?: Partial<CompactionPolicy>;
  logger: Logger;
  onChange: () => void;
  onApplied: (index: number) => void;
  onOutboxChange: (pending: number) => void;
  /**
   * Whether a laptop outside the class may be admitted with `token` (what the join code gave it):
   * null if so, else the sentence to answer with.
   */
  mayAdmit?: (laptopId: string, token: string) => string | null;
  /** See RouterOptions.beforeForwarding. */
  beforeForwarding?: (command: Uint8Array, leader: string) => Promise<void>;
  /** The newest class rules this laptop applies (shared/classroom/rules.ts); tests stand in for other builds with it. */
  knownRules?: number;
}

export class ClassRuntime {
  readonly stateMachine: ClassState;
  readonly storage: SqliteStorage<ClassStateResult>;
  readonly group: RaftGroup<ClassStateResult>;
  /** What this laptop's own writes did when applied here, by sequence number, until collected. */
  private readonly ownResults = new Map<number, ClassCommandResult>();
  readonly outbox: Outbox;
  readonly router: Router;
  readonly autopilot: Autopilot;

  constructor(private readonly options: ClassRuntimeOptions) {
    this.stateMachine = new ClassState(options.classId, options.knownRules);
    this.storage = SqliteStorage.open(options.file, this.stateMachine);
    if (options.bootstrap && this.storage.lastIndex() === 0) this.storage.bootstrap([options.laptopId]);
    this.outbox = new Outbox(this.storage.database);
    // Election timeouts differ per laptop and per run; nothing else in the group is random.
    const seed = randomBytes(4).readUInt32LE(0);
    this.group = new RaftGroup({
      laptopId: options.laptopId,
      storage: this.storage,
      send: options.send,
      random: seededRandom(seed),
      tickMs: options.timing.tickMs,
      electionTicks: options.timing.electionTicks,
      heartbeatTicks: options.timing.heartbeatTicks,
      compaction: { ...DEFAULT_COMPACTION, ...options.compaction },
      logger: options.logger,
      applyAlongside: (applied) => {
        this.outbox.forgetApplied(applied);
        for (const { result } of applied) {
          if (result.status === 'applied' && result.clientId === this.outbox.clientId) this.ownResults.set(result.seq, result.result);
        }
        // Nobody collects the results of writes delivered after their caller stopped waiting.
        for (const seq of this.ownResults.keys()) {
          if (this.ownResults.size <= MAX_KEPT_RESULTS) break;
          this.ownResults.delete(seq);
        }
      },
      onApplied: (applied) => {
        const last = applied[applied.length - 1];
        if (last) options.onApplied(last.entry.index);
      },
      onStateChange: () => {
        this.router.nudge();
        options.onChange();
      },
    });
    this.router = new Router({
      group: this.group as RaftGroup<unknown>,
      outbox: this.outbox,
      request: options.request,
      logger: options.logger,
      onOutboxChange: options.onOutboxChange,
      ...(options.beforeForwarding ? { beforeForwarding: options.beforeForwarding } : {}),
    });
    this.autopilot = new Autopilot(this.group as RaftGroup<unknown>, options.connectedPeers, options.logger, options.autopilot);
  }

  /**
   * What this laptop's write `seq` did, once it was applied here; taken, so asked once. Null
   * when it is not known (applied before a restart, or answered as a duplicate).
   */
  takeResult(seq: number): ClassCommandResult | null {
    const result = this.ownResults.get(seq) ?? null;
    this.ownResults.delete(seq);
    return result;
  }

  get classId(): string {
    return this.options.classId;
  }

  start(): void {
    this.group.start();
    this.router.start();
    this.autopilot.start();
  }

  /** A Raft message for this class from an authenticated laptop. */
  step(from: string, message: Message): void {
    this.group.step(from, message);
  }

  /** A forwarded write or join request from laptop `from`. */
  answer(payload: Uint8Array, from: string): Promise<Uint8Array> {
    return answerForward(this.group as RaftGroup<unknown>, payload, from, (request, asker) => this.admit(request, asker));
  }

  /**
   * The leader's answer to a laptop asking to join: add it as a learner (idempotent). Only for
   * itself, and a newcomer only with a token from the join code in use.
   */
  private async admit({ laptopId, token }: { laptopId: string; token: string }, from: string): Promise<ForwardReply> {
    if (laptopId !== from) return { kind: 'error', code: 'NOT_ALLOWED', message: 'A laptop may ask to join only for itself.' };
    const { voters, learners } = this.group.status().config;
    if (!voters.includes(laptopId) && !learners.includes(laptopId)) {
      // The newcomer's door applied the code or the teacher's yes it came in with; this laptop
      // may not have applied it yet, and must not refuse for want of it.
      await withTimeout(this.group.readIndex().then((index) => this.group.waitApplied(index)), ADMISSION_READ_MS).catch(() => undefined);
      const refusal = this.options.mayAdmit?.(laptopId, token) ?? null;
      if (refusal !== null) return { kind: 'error', code: 'NOT_ALLOWED', message: refusal };
    }
    try {
      return { kind: 'applied', index: await this.autopilot.admit(laptopId) };
    } catch (error) {
      if (error instanceof AdmissionRefusedError) return { kind: 'error', code: error.code, message: error.message };
      throw error;
    }
  }

  /**
   * Rebuild the class from this laptop's copy: it becomes the only voter and leads, every other
   * member a learner (raft/recovery.ts). The caller has checked that this is wanted and allowed.
   * `minTerm`: the highest term any reachable laptop reported.
   */
  recover(minTerm: number): void {
    const recovery = recoveryLog(this.storage, this.options.laptopId, minTerm);
    this.storage.persist(recovery);
    this.group.reload();
    this.options.logger.warn('the class was rebuilt from this laptop', {
      classId: this.classId,
      term: recovery.hardState.term,
      learners: recovery.confState.learners,
    });
    this.router.nudge();
  }

  /** A peer connected: deliver waiting writes now rather than at the next retry. */
  nudge(): void {
    this.router.nudge();
  }

  /**
   * Shut down: if this laptop leads and another voter is caught up, hand leadership over first
   * so the class doesn't wait an election timeout.
   */
  async close(): Promise<void> {
    this.autopilot.stop();
    await this.autopilot.handOffLeadership(2000);
    this.router.stop();
    this.group.stop();
    this.storage.close();
  }
}
