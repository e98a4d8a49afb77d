// A class's backups as a teacher manages them (one now, automatic ones, their status), and
// restoring a class from a backup on a laptop that is not in it. The peer does the work
// (electron/peer/backups); this owns the calls and follows its `backupProgress` and
// `backupStatus` events, so the page shows how far a backup has come and why the last automatic
// one failed (a USB stick taken out) without asking.
import type { BackupProgress, BackupStatus } from '../../../shared/api';
import { cleanPath } from '../lib/backup-fields';
import { explainError } from '../lib/errors';
import { navigation } from './navigation.svelte';
import { notices } from './notices.svelte';
import { onboarding } from './onboarding.svelte';
import { session } from './session.svelte';

/** A backup made by hand, for the class it is about. */
export type BackupRun =
  | { kind: 'idle' }
  | { kind: 'writing'; classId: string }
  | { kind: 'written'; classId: string; file: string; bytes: number }
  | { kind: 'failed'; classId: string; message: string };

export type RestoreRun = { kind: 'idle' } | { kind: 'restoring' } | { kind: 'failed'; message: string };

export class BackupManager {
  /** The automatic backups of each class this page has asked about or heard of, by class id. */
  statuses = $state<Record<string, BackupStatus>>({});
  /** The last progress heard of a backup being written, and of a restore. */
  exportProgress = $state<BackupProgress | null>(null);
  restoreProgress = $state<BackupProgress | null>(null);
  run = $state<BackupRun>({ kind: 'idle' });
  restoreRun = $state<RestoreRun>({ kind: 'idle' });
  /** Setting or stopping the schedule: under way, or why it was refused. */
  scheduleBusy = $state(false);
  scheduleProblem = $state<string | null>(null);
  /** Why the open class's status could not be read. */
  statusProblem = $state<string | null>(null);

  /** The open class's automatic backups, once read. */
  readonly current: BackupStatus | null = $derived(session.selectedClassId ? (this.statuses[session.selectedClassId] ?? null) : null);
  /** The open class's backup made by hand (another class's is not shown here). */
  readonly currentRun: BackupRun = $derived(this.run.kind !== 'idle' && this.run.classId === session.selectedClassId ? this.run : { kind: 'idle' });

  private following = false;
  private watchers = 0;

  constructor() {
    // Events missed while the stream was down come back as a change of every class: read again.
    session.onClassChanged((classId) => {
      if (this.watchers > 0 && classId === session.selectedClassId) void this.readStatus(classId);
    });
  }

  /** Follow the peer's backup events. Idempotent; needs a started session. */
  follow(): void {
    if (this.following || !session.ready) return;
    this.following = true;
    session.client.on('backupStatus', (status) => {
      this.statuses = { ...this.statuses, [status.classId]: status };
    });
    session.client.on('backupProgress', (progress) => {
      if (progress.operation === 'export') this.exportProgress = progress;
      else this.restoreProgress = progress;
    });
  }

  /** While the backups page is open: follow the events and keep the open class's status read. Returns the stop function. */
  watch(): () => void {
    this.follow();
    this.watchers++;
    // A refusal shown before the page was left is about settings typed then, not now.
    this.scheduleProblem = null;
    if (session.selectedClassId) void this.readStatus(session.selectedClassId);
    return () => {
      this.watchers--;
    };
  }

  async readStatus(classId: string): Promise<void> {
    try {
      const status = await session.client.methods.backupStatus({ classId });
      this.statuses = { ...this.statuses, [classId]: status };
      this.statusProblem = null;
    } catch (error) {
      this.statusProblem = explainError(error);
    }
  }

  /** Back the open class up into `folder` now. */
  async backUpNow(folder: string, passphrase: string): Promise<void> {
    const classId = session.selectedClassId;
    if (!classId || this.run.kind === 'writing') return;
    this.follow();
    this.run = { kind: 'writing', classId };
    this.exportProgress = null;
    try {
      const { file, bytes } = await session.client.methods.exportBackup({ classId, folder: cleanPath(folder), passphrase });
      this.run = { kind: 'written', classId, file, bytes };
    } catch (error) {
      this.run = { kind: 'failed', classId, message: explainError(error) };
    }
  }

  /** Back the open class up automatically from now on; resolves whether it was accepted. */
  async setSchedule(settings: { folder: string; passphrase: string; everyMinutes: number; keep: number }): Promise<boolean> {
    return this.changeSchedule({ ...settings, folder: cleanPath(settings.folder) });
  }

  /** Stop the open class's automatic backups (those already made stay where they are). */
  async stopSchedule(): Promise<boolean> {
    // The peer ignores the folder and passphrase when it is told to stop.
    return this.changeSchedule({ folder: this.current?.schedule?.folder ?? '', passphrase: '', everyMinutes: 0 });
  }

  /** Restore the class in `file`, then open it: this laptop leads it and its user teaches it. */
  async restore(file: string, passphrase: string): Promise<void> {
    if (this.restoreRun.kind === 'restoring') return;
    this.follow();
    this.restoreRun = { kind: 'restoring' };
    this.restoreProgress = null;
    // The restored class shows in the node's status before its teacher is handed it: keep the
    // welcome screen (with this form's progress) up until then, not a "joining" screen.
    const wasAddingClass = onboarding.addingClass;
    onboarding.addingClass = true;
    try {
      const { classId } = await session.client.methods.restoreBackup({ file: cleanPath(file), passphrase });
      await session.refreshStatus();
      session.selectClass(classId);
      this.restoreRun = { kind: 'idle' };
      onboarding.finish();
      navigation.go({ name: 'home' });
      notices.info('The class was restored on this laptop.');
    } catch (error) {
      onboarding.addingClass = wasAddingClass;
      this.restoreRun = { kind: 'failed', message: explainError(error) };
    }
  }

  /** Put a failed restore's sentence away (the form was left). */
  resetRestore(): void {
    if (this.restoreRun.kind === 'failed') this.restoreRun = { kind: 'idle' };
  }

  private async changeSchedule(settings: { folder: string; passphrase: string; everyMinutes: number; keep?: number }): Promise<boolean> {
    const classId = session.selectedClassId;
    if (!classId || this.scheduleBusy) return false;
    this.follow();
    this.scheduleBusy = true;
    this.scheduleProblem = null;
    try {
      const status = await session.client.methods.setBackupSchedule({ classId, ...settings });
      this.statuses = { ...this.statuses, [classId]: status };
      return true;
    } catch (error) {
      this.scheduleProblem = explainError(error);
      return false;
    } finally {
      this.scheduleBusy = false;
    }
  }
}

export const backups = new BackupManager();
