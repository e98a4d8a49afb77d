// A 20 MiB attachment across real laptops on loopback (real ClassroomPeers: SQLite files,
// WebSockets, blob files on disk), through the API methods the UI calls: a student uploads it in
// parts, saves it with their work and turns in; the teacher's laptop, which was away meanwhile,
// pulls it from the laptops holding it and reads it back byte for byte. When the copy it pulls
// first has a damaged chunk on its owner's disk, the teacher's laptop notices, fetches that chunk
// again from an honest holder, and never keeps the damaged bytes; the owner's laptop, restarted,
// notices its own damaged copy and fetches a sound one instead of handing it out. The file
// travels sealed (its blob is the sealed copy's, larger by a tag per 64 KiB): every comparison of
// what is stored is with that blob's hash, of what is read with the original's.
//
// The file's bytes and the place of the damage come from one seed, printed first; replay with
//   QUORUM_SEED=<seed> npx vitest run test/peer/large-attachment.test.ts
import { createCipheriv, createHash, randomInt } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { open, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClassroomPeer } from '../../electron/peer/classroom-peer';
import type { Logger } from '../../electron/peer/transport';
import type { FileRef } from '../../shared/classroom/commands';
import { applied, classStatus, connectAll, eventually, Laptops } from './support';

/** The leader pulls a 20 MiB file before the work that refers to it is proposed: allow for it. */
const BIG_WAIT_MS = 60_000;

const seed = Number(process.env.QUORUM_SEED ?? randomInt(2 ** 31));
console.log(`large-attachment seed: QUORUM_SEED=${seed}`);

const KiB = 1024;
const MiB = 1024 * KiB;
const FILE_BYTES = 20 * MiB;
/** What the UI sends per uploadChunk and asks per readFile (renderer/src/state/files.svelte.ts). */
const PART_BYTES = 384 * KiB;
/** The chunk a laptop pulls at a time (MAX_CHUNK_BYTES of the blob protocol). */
const PULL_CHUNK_BYTES = 256 * KiB;

const laptops = new Laptops();
afterEach(() => laptops.cleanUp());

interface LogLine {
  level: keyof Logger;
  message: string;
  fields: Record<string, unknown>;
}

/** A laptop whose log the test reads, opened as `Laptops.start` opens its own and closed with them. */
/**
 * This file is about the read path (who holds a file, who repairs it): the background file keeper,
 * which would copy it to every laptop that keeps files meanwhile, is off (see file-keeping.test.ts).
 */
const READ_PATH_ONLY = { fileKeeping: { files: 0 } };

async function startLogged(name: string, dataDir: string, log: LogLine[]): Promise<ClassroomPeer> {
  const record =
    (level: keyof Logger) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      log.push({ level, message, fields });
  const logger: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
  return laptops.start(name, dataDir, { logger, ...READ_PATH_ONLY });
}

/** 20 MiB that look random, the same for the same seed: AES-CTR over zeros, keyed by the seed. */
function randomFile(): Buffer {
  const key = createHash('sha256').update(`large-attachment ${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(FILE_BYTES)), cipher.final()]);
}

function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The file read through readFile in the parts the UI asks for. */
async function readWhole(peer: ClassroomPeer, classId: string, file: FileRef): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < file.size; offset += PART_BYTES) {
    const part = await peer.methods.readFile({ classId, sha256: file.sha256, offset, length: PART_BYTES });
    expect(part.size).toBe(file.size);
    parts.push(Buffer.from(part.data, 'base64'));
  }
  return Buffer.concat(parts);
}

/** A fresh data folder, removed with the laptops. */
function folder(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `quorum-peer-${name}-`));
  laptops.dirs.push(dir);
  return dir;
}

function blobPath(dataDir: string, sha256: string): string {
  return join(dataDir, 'blobs', sha256.slice(0, 2), sha256);
}

/**
 * A class of four laptops where the teacher's laptop was away while Ana turned in a 20 MiB file.
 * Ana joins last, so she is a learner: the voters are the teacher's, Ben's and Cleo's laptops,
 * and with the teacher's away, Ben's or Cleo's leads and holds the file (it pulled it before
 * Ana's work was proposed). So two laptops hold it, Ana's and the leader's, and the teacher's
 * holds nothing: reading it there means pulling it.
 */
async function turnedInWhileTeacherAway() {
  const teacherDir = folder('teacher');
  const teacherLog: LogLine[] = [];
  let teacher = await startLogged('Ms Rivera', teacherDir, teacherLog);
  const { classId, joinCode } = await teacher.methods.createClass({ name: 'Physics 3' });
  const dirs = { ben: folder('ben'), cleo: folder('cleo'), ana: folder('ana') };
  const ben = await laptops.start('Ben', dirs.ben, READ_PATH_ONLY);
  const cleo = await laptops.start('Cleo', dirs.cleo, READ_PATH_ONLY);
  await connectAll([teacher, ben, cleo]);
  for (const student of [ben, cleo]) await student.methods.joinClass({ joinCode });
  await eventually('three voters', async () => (await classStatus(teacher, classId)).voters.length === 3, 30_000);
  const ana = await laptops.start('Ana', dirs.ana, READ_PATH_ONLY);
  await connectAll([teacher, ben, cleo, ana]);
  await ana.methods.joinClass({ joinCode });
  for (const student of [ben, cleo, ana]) {
    await eventually('the student registered', async () => (await student.methods.classroom({ classId })).me.role === 'student', 30_000);
  }
  expect((await classStatus(teacher, classId)).learners).toEqual([ana.laptopId]);

  await applied(teacher, classId, {
    type: 'createAssignment',
    assignmentId: 'lab-report',
    title: 'Lab report',
    instructions: 'Attach your recording.',
    pointsPossible: 20,
    dueAt: Date.now() + 86_400_000,
    cutOffAt: null,
    materials: [],
    published: true,
  });
  await eventually('the assignment on Ana’s laptop', async () => (await ana.methods.classroom({ classId })).assignments.length === 1);

  // The teacher's laptop leaves (handing leadership to Ben's or Cleo's) while Ana works.
  await teacher.close();
  const leaderId = await eventually('a new leader', async () => {
    const leader = (await classStatus(ben, classId)).leader;
    return leader !== null && [ben.laptopId, cleo.laptopId].includes(leader) && leader;
  });
  const [leader, other] = leaderId === ben.laptopId ? [ben, cleo] : [cleo, ben];
  const [leaderDir, otherDir] = leaderId === ben.laptopId ? [dirs.ben, dirs.cleo] : [dirs.cleo, dirs.ben];

  const content = randomFile();
  const { uploadId } = await ana.methods.startUpload({ name: 'recording.wav', type: 'audio/wav', size: content.byteLength });
  for (let offset = 0; offset < content.byteLength; offset += PART_BYTES) {
    const { received } = await ana.methods.uploadChunk({ uploadId, offset, data: content.subarray(offset, offset + PART_BYTES).toString('base64') });
    expect(received).toBe(Math.min(offset + PART_BYTES, content.byteLength));
  }
  const upload = await ana.methods.finishUpload({ uploadId });
  expect(upload).toEqual({ sha256: sha256Of(content), name: 'recording.wav', type: 'audio/wav', size: FILE_BYTES });
  await applied(ana, classId, { type: 'saveDraft', assignmentId: 'lab-report', baseVersion: 0, text: 'My recording is attached.', files: [upload] }, BIG_WAIT_MS);
  await applied(ana, classId, { type: 'turnIn', assignmentId: 'lab-report' }, BIG_WAIT_MS);
  const anaId = (await ana.methods.classroom({ classId })).me.userId;
  // The class stores the file sealed: its blob is the sealed copy's, shown to Ana under the file's own name and size.
  const [file] = (await ana.methods.submission({ classId, assignmentId: 'lab-report', studentId: anaId })).files;
  expect(file).toEqual({ sha256: expect.stringMatching(/^[0-9a-f]{64}$/), name: 'recording.wav', type: 'audio/wav', size: FILE_BYTES });
  expect(file!.sha256).not.toBe(sha256Of(content));
  // Two holders, and only two.
  expect(await holds(dirs.ana, file)).toBe(true);
  expect(await holds(leaderDir, file)).toBe(true);
  expect(await holds(otherDir, file)).toBe(false);
  expect(await holds(teacherDir, file)).toBe(false);

  const reopenTeacher = async () => {
    teacher = await startLogged('Ms Rivera', teacherDir, teacherLog);
    await eventually(
      'the turn-in on the teacher’s laptop',
      async () => (await teacher.methods.submission({ classId, assignmentId: 'lab-report', studentId: anaId })).turnedIn,
      30_000,
    );
    return teacher;
  };
  return { ana, anaDir: dirs.ana, leader, classId, anaId, file: file!, content, teacherDir, teacherLog, reopenTeacher };
}

/** Whether the laptop with this folder keeps a sound copy of the file on its disk. */
async function holds(dataDir: string, file: FileRef): Promise<boolean> {
  const bytes = await readFile(blobPath(dataDir, file.sha256)).catch(() => null);
  return bytes !== null && sha256Of(bytes) === file.sha256;
}

describe('a 20 MiB attachment across laptops', () => {
  it('reaches the teacher’s laptop whole: the bytes read back hash to the original, and the submission shows the file', async () => {
    const { classId, anaId, file, content, teacherDir, teacherLog, reopenTeacher } = await turnedInWhileTeacherAway();
    const teacher = await reopenTeacher();
    expect(await holds(teacherDir, file)).toBe(false); // nothing here yet

    const read = await readWhole(teacher, classId, file);

    expect(read.byteLength).toBe(FILE_BYTES);
    expect(sha256Of(read)).toBe(sha256Of(content));
    const submission = await teacher.methods.submission({ classId, assignmentId: 'lab-report', studentId: anaId });
    expect(submission).toMatchObject({ status: 'turnedIn', text: 'My recording is attached.' });
    expect(submission.files).toEqual([{ sha256: file.sha256, name: 'recording.wav', type: 'audio/wav', size: FILE_BYTES }]);
    // Pulled, not found: the teacher's laptop now keeps its own sound copy.
    expect(await holds(teacherDir, file)).toBe(true);
    expect(teacherLog.filter((line) => line.message.includes('damaged'))).toEqual([]);
  }, 90_000);

  it('fetches a chunk damaged on the owner’s disk again from an honest holder, and the owner’s laptop drops its damaged copy', async () => {
    const { ana, anaDir, leader, classId, file, content, teacherDir, teacherLog, reopenTeacher } = await turnedInWhileTeacherAway();
    // Damage Ana's copy in its middle half, as a failing disk would: same size, 1 to 48 bytes flipped.
    const draw = createHash('sha256').update(`damage ${seed}`).digest();
    const damageAt = FILE_BYTES / 4 + (draw.readUInt32BE(0) % (FILE_BYTES / 2));
    const damageBytes = 1 + (draw[4]! % 48);
    const sound = await readFile(blobPath(anaDir, file.sha256));
    const handle = await open(blobPath(anaDir, file.sha256), 'r+');
    const stretch = Buffer.from(sound.subarray(damageAt, damageAt + damageBytes)).map((byte) => byte ^ 0x5a);
    await handle.write(stretch, 0, damageBytes, damageAt);
    await handle.close();
    expect(sha256Of(await readFile(blobPath(anaDir, file.sha256)))).not.toBe(file.sha256);
    const damagedChunks = Math.floor((damageAt + damageBytes - 1) / PULL_CHUNK_BYTES) - Math.floor(damageAt / PULL_CHUNK_BYTES) + 1;

    // Ana's laptop is the first the teacher's asks (the file is hers), and it hands out its copy.
    const teacher = await reopenTeacher();
    const read = await readWhole(teacher, classId, file);

    expect(sha256Of(read)).toBe(sha256Of(content));
    expect(read.equals(content)).toBe(true);
    // The teacher's laptop got the damaged copy from Ana's, and only the damaged chunks again from the leader's.
    const repairs = teacherLog.filter((line) => line.message === 'a file arrived damaged from another laptop and was fetched again');
    expect(repairs).toEqual([
      {
        level: 'warn',
        message: 'a file arrived damaged from another laptop and was fetched again',
        fields: { sha256: file.sha256, damagedBy: [ana.laptopId], source: leader.laptopId, repairedChunks: damagedChunks },
      },
    ]);
    // What it keeps is the sound file, and nothing half-done is left behind.
    expect(await holds(teacherDir, file)).toBe(true);
    expect(await readdir(join(teacherDir, 'blobs', 'tmp'))).toEqual([]);

    // Ana's laptop, restarted, checks its copy before handing it out: damaged, so it is dropped
    // and a sound one fetched (from the teacher's or the leader's laptop).
    await ana.close();
    const anaAgain = await laptops.start('Ana', anaDir, READ_PATH_ONLY);
    await eventually('Ana’s laptop back in class', async () => (await classStatus(anaAgain, classId)).leader !== null, 30_000);
    expect(sha256Of(await readWhole(anaAgain, classId, file))).toBe(sha256Of(content));
    expect(await holds(anaDir, file)).toBe(true);
  }, 90_000);
});
