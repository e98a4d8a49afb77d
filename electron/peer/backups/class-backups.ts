// The backups part of the API (exportBackup, restoreBackup, setBackupSchedule, backupStatus),
// behind the checks every one of them makes: who may, and one backup of a class at a time.
import type { ApiParams, BackupFile, BackupStatus } from '../../../shared/api';
import { ServiceError } from '../service';
import type { BackupContext } from './backup-context';
import { BackupSchedules } from './backup-schedule';
import { backupError } from './errors';
import { checkFolder, requireTeacher, writeClassBackup } from './export-backup';
import { checkNewPassphrase } from './passphrase';
import { restoreClassBackup } from './restore-backup';
import { DEFAULT_KEEP, MAX_EVERY_MINUTES, MAX_KEEP } from '../../../shared/backup-limits';

export class ClassBackups {
  private readonly writing = new Set<string>();
  private restoring = false;
  private readonly schedules: BackupSchedules;

  constructor(private readonly context: BackupContext) {
    this.schedules = new BackupSchedules(context, (classId, folder, passphrase) => this.write(classId, folder, passphrase), (classId) => this.writing.has(classId));
  }

  /** Arm the saved schedules; call once the classes are open. */
  start(): void {
    this.schedules.start();
  }

  async stop(): Promise<void> {
    await this.schedules.stop();
  }

  async exportBackup({ classId, folder, passphrase }: ApiParams<'exportBackup'>): Promise<BackupFile> {
    if (this.writing.has(classId)) throw new ServiceError('BUSY', 'A backup of this class is being written right now; wait for it to finish.');
    return this.write(classId, folder, passphrase);
  }

  async restoreBackup({ file, passphrase }: ApiParams<'restoreBackup'>): Promise<{ classId: string }> {
    if (this.restoring) throw new ServiceError('BUSY', 'A backup is being restored on this laptop right now; wait for it to finish.');
    this.restoring = true;
    try {
      return await restoreClassBackup(this.context, file, passphrase);
    } finally {
      this.restoring = false;
    }
  }

  async setSchedule({ classId, folder, passphrase, everyMinutes, keep }: ApiParams<'setBackupSchedule'>): Promise<BackupStatus> {
    requireTeacher(this.context, this.runtime(classId), 'set its automatic backups');
    if (everyMinutes === 0) {
      this.schedules.set(classId, null);
      // Turned off means nothing more is written once the teacher is told so: one under way finishes first.
      await this.schedules.idle(classId);
      return this.schedules.status(classId);
    }
    if (everyMinutes > MAX_EVERY_MINUTES) throw backupError('BAD_SCHEDULE', 'Automatic backups can be made at most a week apart (every 10 080 minutes).');
    const kept = keep ?? DEFAULT_KEEP;
    if (kept < 1 || kept > MAX_KEEP) throw backupError('BAD_SCHEDULE', `Keep between 1 and ${MAX_KEEP} backups.`);
    checkNewPassphrase(passphrase);
    await checkFolder(folder);
    return this.schedules.set(classId, { folder, passphrase, everyMinutes, keep: kept });
  }

  status(classId: string): BackupStatus {
    requireTeacher(this.context, this.runtime(classId), 'see its backups');
    return this.schedules.status(classId);
  }

  /** One backup of the class, checked and counted as running; for the API and the schedule alike. */
  private async write(classId: string, folder: string, passphrase: string): Promise<BackupFile> {
    const runtime = this.runtime(classId);
    requireTeacher(this.context, runtime, 'back it up');
    this.writing.add(classId);
    try {
      return await writeClassBackup(this.context, runtime, folder, passphrase);
    } finally {
      this.writing.delete(classId);
    }
  }

  private runtime(classId: string) {
    const runtime = this.context.findClass(classId);
    if (!runtime) throw new ServiceError('UNKNOWN_CLASS', 'This laptop is not part of that class.');
    return runtime;
  }
}
