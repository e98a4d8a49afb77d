// Automatic backups into a folder the teacher chose: made on schedule, only the last few kept,
// the schedule kept across a restart, and a folder that went away (the USB stick pulled out)
// reported as the reason the last one failed. Real peers and files; a schedule's minute is
// shortened to a tenth of a second.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ClassroomPeer } from '../../../electron/peer/classroom-peer';
import { silentLogger } from '../../../electron/peer/transport';
import type { BackupStatus } from '../../../shared/api';
import { eventually, Laptops } from '../support';

const laptops = new Laptops();
const folders: string[] = [];
afterEach(async () => {
  await laptops.cleanUp();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

const PASSPHRASE = 'a passphrase for the stick';
const MINUTE_MS = 100;

async function teacherLaptop(dataDir: string): Promise<ClassroomPeer> {
  const peer = await ClassroomPeer.open({
    dataDir,
    displayName: 'Ms Rivera',
    host: '127.0.0.1',
    port: 0,
    discovery: { enabled: false },
    logger: silentLogger,
    backupMinuteMs: MINUTE_MS,
  });
  laptops.open.push(peer);
  if (!laptops.dirs.includes(dataDir)) laptops.dirs.push(dataDir);
  return peer;
}

function backupsIn(folder: string): string[] {
  return readdirSync(folder).filter((name) => name.endsWith('.quorum-backup')).sort();
}

describe('automatic backups', () => {
  it('writes a backup every interval, keeps the last N, survives a restart, and says why one failed', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'quorum-peer-scheduled-'));
    const usb = mkdtempSync(join(tmpdir(), 'quorum-usb-'));
    folders.push(usb);
    const teacher = await teacherLaptop(dataDir);
    const { classId } = await teacher.methods.createClass({ name: 'Physics 3' });
    const made: BackupStatus[] = [];
    teacher.on('backupStatus', (status) => {
      if (status.lastBackup && status.lastBackup.file !== made.at(-1)?.lastBackup?.file) made.push(status);
    });

    await expect(teacher.methods.backupStatus({ classId })).resolves.toMatchObject({ schedule: null, lastBackup: null });
    const set = await teacher.methods.setBackupSchedule({ classId, folder: usb, passphrase: PASSPHRASE, everyMinutes: 3, keep: 2 });
    expect(set).toMatchObject({ schedule: { folder: usb, everyMinutes: 3, keep: 2 }, lastBackup: null, lastFailure: null });
    expect(set.nextAt).toBeGreaterThan(Date.now());

    await eventually('four automatic backups', async () => made.length >= 4, 30_000);
    const files = backupsIn(usb);
    expect(files).toHaveLength(2);
    // The two kept are the two newest made.
    const newest = made.slice(-2).map((status) => status.lastBackup!.file.slice(usb.length + 1)).sort();
    expect(files).toEqual(newest);
    expect(files.every((name) => name.startsWith('Physics 3 '))).toBe(true);
    // No temporary file is left in the folder.
    expect(readdirSync(usb).filter((name) => name.startsWith('.'))).toEqual([]);

    // Kept across a restart.
    await teacher.close();
    laptops.open.splice(laptops.open.indexOf(teacher), 1);
    const again = await teacherLaptop(dataDir);
    const after = await again.methods.backupStatus({ classId });
    expect(after).toMatchObject({ schedule: { folder: usb, everyMinutes: 3, keep: 2 }, lastFailure: null });
    expect(after.lastBackup!.at).toBeGreaterThanOrEqual(made.at(-1)!.lastBackup!.at);
    expect(readFileSync(after.lastBackup!.file).byteLength).toBe(after.lastBackup!.bytes);

    // The USB stick is pulled out.
    rmSync(usb, { recursive: true, force: true });
    const failed = await eventually('the failure reported', async () => {
      const status = await again.methods.backupStatus({ classId });
      return status.lastFailure !== null && status;
    }, 30_000);
    expect(failed.lastFailure!.reason).toMatch(/^The backup folder “.*” can’t be found\. If it is on a USB stick, check that the stick is plugged in/);
    expect(failed.lastBackup).toEqual(after.lastBackup);

    // Plugged in again: the next backup succeeds and clears the failure.
    mkdirSync(usb);
    const recovered = await eventually('a backup after the stick came back', async () => {
      const status = await again.methods.backupStatus({ classId });
      return status.lastFailure === null && status.lastBackup!.at > failed.lastFailure!.at && status;
    }, 30_000);
    expect(backupsIn(usb)).toEqual([recovered.lastBackup!.file.slice(usb.length + 1)]);

    // Turned off: nothing more is written once the teacher is told so (one under way finishes first).
    await expect(again.methods.setBackupSchedule({ classId, folder: usb, passphrase: PASSPHRASE, everyMinutes: 0 })).resolves.toMatchObject({
      schedule: null,
      nextAt: null,
      running: false,
    });
    const count = backupsIn(usb).length;
    await new Promise((resolve) => setTimeout(resolve, 6 * MINUTE_MS));
    expect(backupsIn(usb)).toHaveLength(count);
  }, 120_000);

  it('refuses a schedule with a passphrase too short or a folder that is not there', async () => {
    const teacher = await laptops.start('Ms Rivera');
    const { classId } = await teacher.methods.createClass({ name: 'Physics 3' });
    const usb = mkdtempSync(join(tmpdir(), 'quorum-usb-'));
    folders.push(usb);
    await expect(teacher.methods.setBackupSchedule({ classId, folder: usb, passphrase: 'short', everyMinutes: 10 })).rejects.toMatchObject({ code: 'PASSPHRASE_TOO_SHORT' });
    await expect(teacher.methods.setBackupSchedule({ classId, folder: join(usb, 'missing'), passphrase: PASSPHRASE, everyMinutes: 10 })).rejects.toMatchObject({ code: 'FOLDER_MISSING' });
    await expect(teacher.methods.setBackupSchedule({ classId, folder: usb, passphrase: PASSPHRASE, everyMinutes: 10, keep: 0 })).rejects.toMatchObject({ code: 'BAD_SCHEDULE' });
    await expect(teacher.methods.backupStatus({ classId })).resolves.toMatchObject({ schedule: null });
  }, 60_000);
});
