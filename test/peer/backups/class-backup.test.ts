// A class backed up to one encrypted file and restored on a fresh laptop: same state at the
// backup's applied index, same gradebook for its teacher, same files; a damaged or wrongly
// unlocked backup is refused with a sentence and leaves nothing behind. Real peers on loopback,
// real files.
import Database from 'better-sqlite3';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClassroomPeer } from '../../../electron/peer/classroom-peer';
import { BackupFileReader } from '../../../electron/peer/backups/backup-file-reader';
import { ClassState } from '../../../electron/peer/routing/class-state';
import { digestState } from '../../../electron/peer/storage/digest';
import type { FileRef } from '../../../shared/classroom/commands';
import { applied, classroomOf, classStatus, connectAll, eventually, Laptops } from '../support';

const laptops = new Laptops();
const folders: string[] = [];
afterEach(async () => {
  await laptops.cleanUp();
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

const PASSPHRASE = 'correct horse battery staple';

function newFolder(name: string): string {
  const folder = mkdtempSync(join(tmpdir(), `quorum-${name}-`));
  folders.push(folder);
  return folder;
}

async function upload(peer: ClassroomPeer, name: string, bytes: Buffer): Promise<FileRef> {
  const { uploadId } = await peer.methods.startUpload({ name, type: 'application/octet-stream', size: bytes.byteLength });
  for (let offset = 0; offset < bytes.byteLength; offset += 256 * 1024) {
    await peer.methods.uploadChunk({ uploadId, offset, data: bytes.subarray(offset, offset + 256 * 1024).toString('base64') });
  }
  return peer.methods.finishUpload({ uploadId });
}

async function readWhole(peer: ClassroomPeer, classId: string, file: FileRef): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < file.size; ) {
    const { data } = await peer.methods.readFile({ classId, sha256: file.sha256, offset, length: 512 * 1024 });
    const part = Buffer.from(data, 'base64');
    if (part.byteLength === 0) break;
    parts.push(part);
    offset += part.byteLength;
  }
  return Buffer.concat(parts);
}

/** A teacher and two students with an assignment (with material), a turned-in file, a returned grade and a comment. */
async function classWithWork() {
  const { teacher, students, classId, joinCode } = await classroomOf(laptops, 'Ms Rivera', ['Ana', 'Ben']);
  const [ana, ben] = students as [ClassroomPeer, ClassroomPeer];
  // Bytes that are not all alike, over a record's size, so a file spans several records.
  const material = Buffer.alloc(1_300_000);
  for (let i = 0; i < material.byteLength; i++) material[i] = (i * 31 + (i >> 10)) & 0xff;
  const handout = await upload(teacher, 'pendulum-handout.pdf', material);
  await applied(teacher, classId, {
    type: 'createAssignment',
    assignmentId: 'lab-pendulum',
    title: 'Pendulum lab',
    instructions: 'Time ten swings.',
    pointsPossible: 20,
    dueAt: Date.now() + 7 * 86_400_000,
    cutOffAt: null,
    materials: [handout],
    published: true,
  });
  await eventually('the assignment on Ana’s laptop', async () => (await ana.methods.classroom({ classId })).assignments.length === 1);
  const uploaded = await upload(ana, 'measurements.csv', Buffer.from('swing,seconds\n1,1.42\n2,1.41\n'));
  await applied(ana, classId, { type: 'saveDraft', assignmentId: 'lab-pendulum', baseVersion: 0, text: 'See the file.', files: [uploaded] });
  await applied(ana, classId, { type: 'turnIn', assignmentId: 'lab-pendulum' });
  const anaId = (await ana.methods.classroom({ classId })).me.userId;
  // Ana's file as the class keeps it: sealed, its blob the sealed copy's; the backup carries that blob.
  const [measurements] = (await ana.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId })).files;
  expect(measurements).toMatchObject({ name: 'measurements.csv', size: uploaded.size });
  await eventually('the turn-in on the teacher’s laptop', async () => (await teacher.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId })).turnedIn);
  await applied(teacher, classId, { type: 'grade', assignmentId: 'lab-pendulum', studentId: anaId, baseVersion: 0, score: 18, feedback: 'Neat work' });
  await applied(teacher, classId, { type: 'returnGrade', assignmentId: 'lab-pendulum', studentId: anaId });
  await applied(teacher, classId, { type: 'comment', commentId: 'comment-0001', assignmentId: 'lab-pendulum', studentId: anaId, text: 'Try 20 swings next time.' });
  const all = [teacher, ana, ben];
  await eventually('every laptop with the same copy', async () => {
    const statuses = await Promise.all(all.map((peer) => classStatus(peer, classId)));
    return statuses.every((s) => s.applied === statuses[0]!.applied && s.digest === statuses[0]!.digest && s.outbox === 0);
  }, 30_000);
  return { teacher, ana, ben, classId, joinCode, files: [handout, measurements!], anaId };
}

/** Nothing of a class on `peer`'s laptop: not in its status, no class file, no file in its store. */
async function expectNoClass(peer: ClassroomPeer, dataDir: string): Promise<void> {
  expect((await peer.methods.status({})).classes).toEqual([]);
  expect(readdirSync(join(dataDir, 'classes'))).toEqual([]);
  const stored = readdirSync(join(dataDir, 'blobs')).filter((name) => /^[0-9a-f]{2}$/.test(name)).flatMap((shard) => readdirSync(join(dataDir, 'blobs', shard)));
  expect(stored).toEqual([]);
}

describe('backing a class up and restoring it on a fresh laptop', () => {
  it('restores the same state, gradebook and files, and the class carries on from the new laptop', async () => {
    const { teacher, ana, ben, classId, files } = await classWithWork();
    // Ben left the class, so it proves a secret it was not made with: the restored class keeps it.
    await applied(teacher, classId, { type: 'removeMember', userId: (await ben.methods.classroom({ classId })).me.userId });
    const secretsOf = (dataDir: string) => (JSON.parse(readFileSync(join(dataDir, 'classes.json'), 'utf8')) as { later?: unknown[] }[])[0]?.later;
    const teacherSecrets = await eventually('the class’s new secret on the teacher’s laptop', async () => secretsOf(laptops.dirs[0]!));
    expect(teacherSecrets).toHaveLength(1);
    await eventually('Ben’s laptop out of the Raft group', async () => {
      const status = await classStatus(teacher, classId);
      return !status.voters.includes(ben.laptopId) && !status.learners.includes(ben.laptopId) && status.applied === status.commit;
    }, 30_000);
    const before = await classStatus(teacher, classId);
    const progress: number[] = [];
    teacher.on('backupProgress', (p) => progress.push(p.doneBytes));
    const folder = newFolder('usb');
    const backup = await teacher.methods.exportBackup({ classId, folder, passphrase: PASSPHRASE });
    expect(backup.file.startsWith(join(folder, 'Physics 3 '))).toBe(true);
    expect(backup.file.endsWith('.quorum-backup')).toBe(true);
    expect(readFileSync(backup.file).byteLength).toBe(backup.bytes);
    expect(readdirSync(folder)).toHaveLength(1); // no temporary file left beside it
    expect(progress.at(-1)).toBeGreaterThan(1_300_000);
    // Encrypted: none of the class's words or files appear in the file.
    const raw = readFileSync(backup.file);
    for (const secret of ['Neat work', 'See the file.', 'swing,seconds', 'Pendulum lab']) expect(raw.includes(Buffer.from(secret))).toBe(false);

    const reader = await BackupFileReader.open(backup.file);
    const header = reader.header;
    await reader.close();
    expect((await classStatus(teacher, classId)).applied).toBe(before.applied); // nothing applied meanwhile
    expect(header).toMatchObject({ classId, className: 'Physics 3', appliedIndex: before.applied, term: before.term, digest: before.digest });

    const restorerDir = mkdtempSync(join(tmpdir(), 'quorum-peer-restorer-'));
    const restorer = await laptops.start('Ms Rivera, new laptop', restorerDir);
    await expect(restorer.methods.restoreBackup({ file: backup.file, passphrase: PASSPHRASE })).resolves.toEqual({ classId });

    // Handing the class to this laptop's user removes the one-off key in the backup, which moves
    // the restored class onto one more secret: whoever holds the file knows the earlier ones.
    const restoredSecrets = await eventually('the restored class’s own secret', async () => (secretsOf(restorerDir)?.length === 2 ? secretsOf(restorerDir) : false));
    expect(restoredSecrets!.slice(0, 1)).toEqual(teacherSecrets);
    const restored = await classStatus(restorer, classId);
    expect(restored).toMatchObject({ role: 'leader', voters: [restorer.laptopId], learners: [] });
    expect(restored.term).toBeGreaterThan(header.term);
    expect((await restorer.methods.classroom({ classId })).me.role).toBe('teacher');
    expect(await restorer.methods.gradebook({ classId })).toEqual(await teacher.methods.gradebook({ classId }));
    const anaId = (await ana.methods.classroom({ classId })).me.userId;
    const graded = await restorer.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId });
    expect(graded.grade).toMatchObject({ score: 18, feedback: 'Neat work' });
    for (const file of files) expect((await readWhole(restorer, classId, file)).equals(await readWhole(teacher, classId, file))).toBe(true);
    expect((await readWhole(restorer, classId, files[1]!)).toString()).toBe('swing,seconds\n1,1.42\n2,1.41\n');

    // A new student joins the restored class with its join code.
    const joinCode = (await restorer.methods.classroom({ classId })).joinCode!;
    const cleo = await laptops.start('Cleo');
    await connectAll([restorer, cleo]);
    await cleo.methods.joinClass({ joinCode });
    await eventually('Cleo registered in the restored class', async () => (await cleo.methods.classroom({ classId })).me.role === 'student', 30_000);
    expect(secretsOf(laptops.dirs.at(-1)!)).toEqual(restoredSecrets);

    // The state the restored laptop started from is the original's at the backup's applied index.
    await restorer.close();
    const file = new Database(join(restorerDir, 'classes', `${classId}.sqlite`), { readonly: true });
    try {
      const snapshot = file.prepare('SELECT idx, term FROM raft_snapshot WHERE id = 1').get() as { idx: number; term: number };
      expect(snapshot).toEqual({ idx: header.appliedIndex, term: header.term });
      const image = new Database(file.prepare('SELECT data FROM raft_snapshot_data WHERE id = 1').pluck().get() as Buffer);
      expect(digestState(image, new ClassState(classId).tables, snapshot.idx)).toBe(before.digest);
      image.close();
    } finally {
      file.close();
    }
  }, 180_000);

  it('refuses a wrong passphrase, a cut-short file and a changed byte with a sentence, leaving no class behind', async () => {
    const { teacher, ana, classId } = await classWithWork();
    const folder = newFolder('usb');
    const { file } = await teacher.methods.exportBackup({ classId, folder, passphrase: PASSPHRASE });
    const bytes = readFileSync(file);
    const truncated = join(folder, 'truncated.quorum-backup');
    writeFileSync(truncated, bytes.subarray(0, bytes.byteLength - 1000));
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(flipped.byteLength * 0.6)]! ^= 0x01;
    const changed = join(folder, 'changed.quorum-backup');
    writeFileSync(changed, flipped);
    const inHeader = Buffer.from(bytes);
    inHeader[bytes.indexOf(Buffer.from('Physics 3'))]! ^= 0x20; // "physics 3": the header is authenticated too
    const renamed = join(folder, 'renamed.quorum-backup');
    writeFileSync(renamed, inHeader);

    const dataDir = mkdtempSync(join(tmpdir(), 'quorum-peer-fresh-'));
    const fresh = await laptops.start('fresh', dataDir);
    const cases: [string, string, string][] = [
      [file, 'not the passphrase', 'WRONG_PASSPHRASE'],
      [truncated, PASSPHRASE, 'BACKUP_DAMAGED'],
      [changed, PASSPHRASE, 'BACKUP_DAMAGED'],
      [renamed, PASSPHRASE, 'BACKUP_DAMAGED'],
    ];
    for (const [backup, passphrase, code] of cases) {
      const refusal = await fresh.methods.restoreBackup({ file: backup, passphrase }).then(
        () => null,
        (error: { code: string; message: string }) => error,
      );
      expect(refusal, backup).toMatchObject({ code, message: expect.stringMatching(/^[A-Z].{30,}\.$/) });
      await expectNoClass(fresh, dataDir);
    }
    // The same backup, whole and with the right passphrase, restores on that laptop afterwards.
    await expect(fresh.methods.restoreBackup({ file, passphrase: PASSPHRASE })).resolves.toEqual({ classId });
    // A laptop already in the class, and a file that is no backup, are refused too.
    await expect(ana.methods.restoreBackup({ file, passphrase: PASSPHRASE })).rejects.toMatchObject({ code: 'CLASS_ALREADY_HERE' });
    const notBackup = join(folder, 'notes.txt');
    writeFileSync(notBackup, 'just some notes');
    await expect(ana.methods.restoreBackup({ file: notBackup, passphrase: PASSPHRASE })).rejects.toMatchObject({ code: 'NOT_A_BACKUP' });
  }, 180_000);

  it('lets only a teacher back the class up, with a passphrase long enough, into a folder that is there', async () => {
    const teacher = await laptops.start('Ms Rivera');
    const { classId, joinCode } = await teacher.methods.createClass({ name: 'Physics 3' });
    const ana = await laptops.start('Ana');
    await connectAll([teacher, ana]);
    await ana.methods.joinClass({ joinCode });
    await eventually('Ana registered', async () => (await ana.methods.classroom({ classId })).me.role === 'student', 30_000);
    const folder = newFolder('usb');
    await expect(ana.methods.exportBackup({ classId, folder, passphrase: PASSPHRASE })).rejects.toMatchObject({ code: 'NOT_ALLOWED', message: 'Only a teacher of the class can back it up.' });
    await expect(ana.methods.setBackupSchedule({ classId, folder, passphrase: PASSPHRASE, everyMinutes: 5 })).rejects.toMatchObject({ code: 'NOT_ALLOWED' });
    await expect(teacher.methods.exportBackup({ classId, folder, passphrase: 'short' })).rejects.toMatchObject({
      code: 'PASSPHRASE_TOO_SHORT',
      message: expect.stringMatching(/at least 12 characters/),
    });
    await expect(teacher.methods.exportBackup({ classId, folder: join(folder, 'gone'), passphrase: PASSPHRASE })).rejects.toMatchObject({
      code: 'FOLDER_MISSING',
      message: expect.stringMatching(/can’t be found.*USB stick/),
    });
    expect(readdirSync(folder)).toEqual([]);
  }, 60_000);
});
