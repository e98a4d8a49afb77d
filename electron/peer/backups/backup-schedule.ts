// Automatic backups: per class, every so many minutes into a folder the teacher chose (a USB
// stick), keeping the last few. The schedules, passphrases included, are kept in the laptop's
// secret vault (sealed by the system's keyring in the app), so they survive a restart without a
// passphrase ever lying in a plain file; so are the outcomes, so the status after a restart still
// says when the last backup was made or why it failed.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackupFile, BackupStatus } from '../../../shared/api';
import type { BackupContext } from './backup-context';
import { BACKUP_EXTENSION } from './backup-format';
import { BackupFileReader } from './backup-file-reader';

/** The vault entry holding every schedule of this laptop. */
export const SCHEDULES_FILE = 'backup-schedules.json';

export interface ScheduleSettings {
  folder: string;
  passphrase: string;
  everyMinutes: number;
  keep: number;
}

interface StoredSchedule extends ScheduleSettings {
  classId: string;
  /** When the schedule was set: the first backup is due an interval later. */
  since: number;
  lastAttemptAt: number | null;
  lastBackup: BackupStatus['lastBackup'];
  lastFailure: BackupStatus['lastFailure'];
}

/** Writes one backup of the class; throws a ServiceError with a sentence when it can't. */
export type RunBackup = (classId: string, folder: string, passphrase: string) => Promise<BackupFile>;

export class BackupSchedules {
  private readonly schedules = new Map<string, StoredSchedule>();
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly runs = new Map<string, Promise<void>>();
  private stopped = false;

  constructor(
    private readonly context: BackupContext,
    private readonly runBackup: RunBackup,
    /** Whether a backup of the class is being written now (by the schedule or by hand). */
    private readonly isRunning: (classId: string) => boolean,
  ) {
    const stored = context.vault.read(SCHEDULES_FILE);
    if (stored) {
      for (const schedule of JSON.parse(Buffer.from(stored).toString('utf8')) as StoredSchedule[]) this.schedules.set(schedule.classId, schedule);
    }
  }

  start(): void {
    for (const classId of this.schedules.keys()) this.arm(classId);
  }

  /** Stop the timers and wait for a backup being written. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    await Promise.all(this.runs.values());
  }

  /** Resolves once no automatic backup of `classId` is being written. */
  async idle(classId: string): Promise<void> {
    await this.runs.get(classId);
  }

  /** Back `classId` up with these settings from now on (null: not any more). */
  set(classId: string, settings: ScheduleSettings | null): BackupStatus {
    const timer = this.timers.get(classId);
    if (timer) clearTimeout(timer);
    this.timers.delete(classId);
    if (settings === null) {
      this.schedules.delete(classId);
    } else {
      const previous = this.schedules.get(classId);
      this.schedules.set(classId, {
        classId,
        ...settings,
        since: Date.now(),
        lastAttemptAt: null,
        lastBackup: previous?.lastBackup ?? null,
        lastFailure: null,
      });
    }
    this.save();
    this.arm(classId);
    const status = this.status(classId);
    this.context.onStatus(status);
    return status;
  }

  status(classId: string): BackupStatus {
    const schedule = this.schedules.get(classId);
    if (!schedule) return { classId, schedule: null, lastBackup: null, lastFailure: null, nextAt: null, running: this.isRunning(classId) };
    return {
      classId,
      schedule: { folder: schedule.folder, everyMinutes: schedule.everyMinutes, keep: schedule.keep },
      lastBackup: schedule.lastBackup,
      lastFailure: schedule.lastFailure,
      nextAt: this.dueAt(schedule),
      running: this.isRunning(classId),
    };
  }

  private dueAt(schedule: StoredSchedule): number {
    return (schedule.lastAttemptAt ?? schedule.since) + schedule.everyMinutes * this.context.minuteMs;
  }

  private arm(classId: string): void {
    const schedule = this.schedules.get(classId);
    if (!schedule || this.stopped) return;
    const delay = Math.max(0, this.dueAt(schedule) - Date.now());
    this.timers.set(
      classId,
      setTimeout(() => {
        this.timers.delete(classId);
        const run = this.run(classId).finally(() => this.runs.delete(classId));
        this.runs.set(classId, run);
      }, delay),
    );
  }

  private async run(classId: string): Promise<void> {
    const schedule = this.schedules.get(classId);
    if (!schedule || this.stopped) return;
    if (!this.context.findClass(classId) || this.isRunning(classId)) {
      // Not open here (yet), or written by hand right now: try again an interval later.
      schedule.lastAttemptAt = Date.now();
      this.arm(classId);
      return;
    }
    const at = Date.now();
    try {
      const written = await this.runBackup(classId, schedule.folder, schedule.passphrase);
      schedule.lastBackup = { at, file: written.file, bytes: written.bytes };
      schedule.lastFailure = null;
      await this.prune(classId, schedule);
    } catch (error) {
      schedule.lastFailure = { at, reason: error instanceof Error ? error.message : String(error) };
      this.context.logger.warn('an automatic backup failed', { classId, folder: schedule.folder, reason: schedule.lastFailure.reason });
    }
    // The schedule may have been changed or removed while the backup was written.
    if (this.schedules.get(classId) !== schedule) return;
    schedule.lastAttemptAt = at;
    this.save();
    this.context.onStatus(this.status(classId));
    this.arm(classId);
  }

  /** Keep the newest `keep` backups of this class in the folder; other files are left alone. */
  private async prune(classId: string, schedule: StoredSchedule): Promise<void> {
    const found: { path: string; createdAt: number }[] = [];
    for (const name of await readdir(schedule.folder)) {
      if (!name.endsWith(BACKUP_EXTENSION) || name.startsWith('.')) continue;
      const path = join(schedule.folder, name);
      try {
        const reader = await BackupFileReader.open(path);
        if (reader.header.classId === classId) found.push({ path, createdAt: reader.header.createdAt });
        await reader.close();
      } catch {
        // Not a backup this version reads: not ours to delete.
      }
    }
    found.sort((a, b) => b.createdAt - a.createdAt || (a.path < b.path ? 1 : -1));
    for (const old of found.slice(schedule.keep)) await rm(old.path, { force: true });
  }

  private save(): void {
    this.context.vault.replace(SCHEDULES_FILE, Buffer.from(JSON.stringify([...this.schedules.values()]), 'utf8'));
  }
}
