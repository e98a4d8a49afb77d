// Keeps the peer process running for the main process: starts it, relays calls to it (through a
// PeerRelay per process), restarts it when it dies unexpectedly (a few times, then reports that it
// gave up), and stops it gracefully on quit: ask, wait for the leadership hand-off, kill only if
// it takes too long. Pure: the process comes from a factory (Electron's utilityProcess in the app,
// a fake or a Node child process in tests).
import type { ApiError, ApiMethod, ApiResponse } from '../../shared/api';
import type { ApiEventMessage } from '../../shared/http';
import type { Logger } from '../peer/transport/types';
import type { Keyring } from './key-sealing-service';
import { PeerRelay } from './peer-relay';
import { PeerErrorCode, type MainToPeerMessage, type PeerReadyMessage } from './peer-port-protocol';

/** What the supervisor needs of a started peer process. */
export interface PeerProcess {
  /** Sends a message to the process (dropped once it is gone). */
  postMessage(message: MainToPeerMessage): void;
  /** Every message the process sends. */
  onMessage(listener: (message: unknown) => void): void;
  /** Once, when the process has ended, however it ended. */
  onExit(listener: (code: number | null) => void): void;
  /** Ends the process (SIGTERM on POSIX: the node still stops gracefully if it had not begun to). */
  kill(): void;
}

/**
 * - starting: a process runs and has not said it is ready (calls are sent; it answers once open)
 * - ready: the peer serves calls
 * - restarting: the process died unexpectedly; a new one starts after a short wait
 * - failed: it died too often; no more restarts until `start` is called again
 * - stopping: asked to stop; new calls are refused, calls under way still get their answers
 * - stopped: no process, none wanted
 */
export type PeerProcessState = 'starting' | 'ready' | 'restarting' | 'failed' | 'stopping' | 'stopped';

export interface PeerSupervisorOptions {
  /** Starts a new peer process. May throw, which counts as the process dying at once. */
  startProcess(): PeerProcess;
  /** Every event of the peer, for the windows. */
  onEvent(message: ApiEventMessage): void;
  /** Every change of state, with a sentence saying why. */
  onStateChange?(state: PeerProcessState, reason: string): void;
  logger: Logger;
  /** The system's keyring (Electron's safeStorage), with which the peer seals its keys; absent: keys in owner-only files. */
  keyring?: Keyring | null;
  /** How long a call may wait for its answer; default CALL_TIMEOUT_MS. */
  callTimeoutMs?: number;
  /** How long a graceful stop may take before the process is killed; default 20 s. */
  stopTimeoutMs?: number;
  /** Wait before restarting a process that died; default 1 s. */
  restartDelayMs?: number;
  /** Restarts allowed within `restartWindowMs` before giving up; default 3 within 5 minutes. */
  maxRestarts?: number;
  restartWindowMs?: number;
}

/**
 * Longer than the longest wait a caller may ask of the peer (a write waits at most 60 s for its
 * commit, clampWait in electron/peer/classroom-peer.ts), so only a stuck peer times out.
 */
export const CALL_TIMEOUT_MS = 90_000;

/** After a kill, how long to wait for the exit before giving up on it. */
const KILL_GRACE_MS = 5_000;

const REFUSALS: Record<Exclude<PeerProcessState, 'starting' | 'ready'>, ApiError> = {
  restarting: { code: PeerErrorCode.unreachable, message: 'The classroom service stopped and is restarting. Try again in a moment.' },
  failed: { code: PeerErrorCode.unreachable, message: 'The classroom service could not be kept running. Restart Quorum; if it happens again, its log has the details.' },
  stopping: { code: PeerErrorCode.stopping, message: 'Quorum is shutting down and takes no new requests.' },
  stopped: { code: PeerErrorCode.unreachable, message: 'The classroom service is not running.' },
};
const DIED: ApiError = { code: PeerErrorCode.unreachable, message: 'The classroom service stopped before it answered. Try again in a moment.' };

/** The process that runs now, its relay, and a promise settled when it has exited. */
interface RunningPeer {
  process: PeerProcess;
  relay: PeerRelay;
  exited: Promise<void>;
}

export class PeerSupervisor {
  private current: RunningPeer | null = null;
  private stateNow: PeerProcessState = 'stopped';
  /** When the recent restarts happened, oldest first (only those within the restart window). */
  private readonly restarts: number[] = [];
  private restartTimer: ReturnType<typeof setTimeout> | null = null;
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: PeerSupervisorOptions) {}

  get state(): PeerProcessState {
    return this.stateNow;
  }

  /** Starts the peer process if none runs and none is wanted to stop. Idempotent. */
  start(): void {
    if (this.stateNow !== 'stopped' && this.stateNow !== 'failed') return;
    this.stopping = null;
    this.restarts.length = 0;
    this.launch('started');
  }

  /** Calls the peer; resolves with its response or with an error saying why it could not. Never rejects. */
  call(method: unknown, params: unknown): Promise<ApiResponse<ApiMethod>> {
    if (this.stateNow === 'starting' || this.stateNow === 'ready') return this.current!.relay.call(method, params);
    return Promise.resolve({ ok: false, error: { ...REFUSALS[this.stateNow] } });
  }

  /** Stops the peer gracefully (it hands its leadership over first); kills it if that takes too long. Idempotent. */
  stop(): Promise<void> {
    return (this.stopping ??= this.stopGracefully());
  }

  private async stopGracefully(): Promise<void> {
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const current = this.current;
    if (!current) {
      this.become('stopped', 'stop asked while no peer process ran');
      return;
    }
    this.become('stopping', 'stop asked');
    try {
      current.process.postMessage({ type: 'stop' });
    } catch (error) {
      this.options.logger.warn('could not ask the peer process to stop', { error });
    }
    const stopTimeoutMs = this.options.stopTimeoutMs ?? 20_000;
    if (await exitsWithin(current.exited, stopTimeoutMs)) return;
    this.options.logger.warn('the peer process did not stop in time; killing it', { stopTimeoutMs });
    current.process.kill();
    if (!(await exitsWithin(current.exited, KILL_GRACE_MS))) {
      this.options.logger.error('the peer process did not exit after it was killed');
      this.current = null;
      this.become('stopped', 'gave up waiting for the peer process to exit');
    }
  }

  private launch(reason: string): void {
    this.restartTimer = null;
    let process: PeerProcess;
    try {
      process = this.options.startProcess();
    } catch (error) {
      this.options.logger.error('could not start the peer process', { error });
      this.afterUnexpectedExit('the peer process could not be started');
      return;
    }
    let markExited!: () => void;
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const relay = new PeerRelay({
      post: (message) => process.postMessage(message),
      onEvent: (message) => this.options.onEvent(message),
      onReady: (message) => this.becomeReady(relay, message),
      logger: this.options.logger,
      timeoutMs: this.options.callTimeoutMs ?? CALL_TIMEOUT_MS,
      keyring: this.options.keyring ?? null,
    });
    const current: RunningPeer = { process, relay, exited };
    this.current = current;
    process.onMessage((message) => relay.receive(message));
    process.onExit((code) => {
      markExited();
      this.handleExit(current, code);
    });
    this.become('starting', reason);
  }

  private becomeReady(relay: PeerRelay, message: PeerReadyMessage): void {
    // Only the current process's relay, and only while it is starting: a ready during a stop changes nothing.
    if (this.current?.relay !== relay || this.stateNow !== 'starting') return;
    this.become('ready', `the peer of laptop ${message.laptopId} serves at ${message.address}`);
  }

  private handleExit(ended: RunningPeer, code: number | null): void {
    ended.relay.disconnect(DIED);
    if (this.current !== ended) return;
    this.current = null;
    if (this.stateNow === 'stopping') {
      this.become('stopped', `the peer process exited (code ${code})`);
      return;
    }
    // Any exit nobody asked for is unexpected, whatever its code (a crash may report 0).
    this.options.logger.error('the peer process exited unexpectedly', { code });
    this.afterUnexpectedExit(`the peer process exited unexpectedly (code ${code})`);
  }

  private afterUnexpectedExit(reason: string): void {
    const now = Date.now();
    const windowMs = this.options.restartWindowMs ?? 5 * 60_000;
    while (this.restarts.length > 0 && now - this.restarts[0]! > windowMs) this.restarts.shift();
    if (this.restarts.length >= (this.options.maxRestarts ?? 3)) {
      this.become('failed', `${reason}, ${this.restarts.length + 1} times within ${Math.round(windowMs / 1000)} s: no more restarts`);
      return;
    }
    this.restarts.push(now);
    this.become('restarting', reason);
    this.restartTimer = setTimeout(() => this.launch('restarted'), this.options.restartDelayMs ?? 1_000);
  }

  private become(state: PeerProcessState, reason: string): void {
    this.stateNow = state;
    this.options.logger.info('peer process', { state, reason });
    this.options.onStateChange?.(state, reason);
  }
}

/** Whether `exited` settles within `ms`. */
async function exitsWithin(exited: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const result = await Promise.race([exited.then(() => true as const), timedOut]);
  clearTimeout(timer);
  return result;
}
