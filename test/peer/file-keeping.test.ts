// Files reach the laptops that must keep them, without anyone opening them: real laptops on
// loopback (ClassroomPeers with SQLite files, WebSockets and blob stores on disk), a teacher and
// four students, so that three laptops vote and two are learners. A turned-in file ends up on
// every voter, every teacher's laptop and its owner's, and an assignment's material on every
// voter and teacher's laptop; a classmate's learner laptop gets neither until its user is made
// a teacher. A teacher's laptop away during the turn-in gets the file when it is back, and a
// learner that the class makes a voter meanwhile gets what voters keep. Presence is checked on
// disk (the blob store's folder, each copy hashed), never through readFile, which would fetch.
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AutopilotOptions } from '../../electron/peer/autopilot';
import { ClassroomPeer } from '../../electron/peer/classroom-peer';
import type { FileKeeperLimits } from '../../electron/peer/file-keeper';
import { silentLogger } from '../../electron/peer/transport';
import type { ClassroomCommand, FileRef } from '../../shared/classroom/commands';
import { classStatus, connectAll, eventually, Laptops } from './support';

const laptops = new Laptops();
afterEach(() => laptops.cleanUp());

interface Laptop {
  name: string;
  peer: ClassroomPeer;
  dir: string;
}

interface LaptopOptions {
  autopilot?: Partial<AutopilotOptions>;
  fileKeeping?: Partial<FileKeeperLimits>;
}

/** A laptop as `Laptops.start` opens one (closed and removed with them), with its folder and options. */
async function startLaptop(name: string, options: LaptopOptions = {}, dir = mkdtempSync(join(tmpdir(), `quorum-keep-${name}-`))): Promise<Laptop> {
  if (!laptops.dirs.includes(dir)) laptops.dirs.push(dir);
  const peer = await ClassroomPeer.open({
    dataDir: dir,
    displayName: name,
    host: '127.0.0.1',
    port: 0,
    discovery: { enabled: false },
    logger: silentLogger,
    autopilot: { intervalMs: 100, ...options.autopilot },
    ...(options.fileKeeping ? { fileKeeping: options.fileKeeping } : {}),
  });
  laptops.open.push(peer);
  return { name, peer, dir };
}

/**
 * A teacher's laptop and four students', all in the class and registered, the voters settled:
 * the teacher's and two students' vote, the other two students' laptops are learners.
 */
async function classOfFive(options: LaptopOptions = {}) {
  const teacher = await startLaptop('Ms Rivera', options);
  const { classId, joinCode } = await teacher.peer.methods.createClass({ name: 'Biology 2' });
  const students: Laptop[] = [];
  for (const name of ['Ana', 'Ben', 'Cleo', 'Dev']) students.push(await startLaptop(name, options));
  const all = [teacher, ...students];
  await connectAll(all.map((laptop) => laptop.peer));
  for (const student of students) await student.peer.methods.joinClass({ joinCode });
  for (const student of students) {
    await eventually(`${student.name} registered`, async () => (await student.peer.methods.classroom({ classId })).me.role === 'student', 30_000);
  }
  const settled = await eventually(
    'three voters and two learners',
    async () => {
      const status = await classStatus(teacher.peer, classId);
      return status.voters.length === 3 && status.learners.length === 2 && status;
    },
    30_000,
  );
  expect(settled.voters).toContain(teacher.peer.laptopId);
  const byLaptop = (id: string) => all.find((laptop) => laptop.peer.laptopId === id)!;
  return { classId, teacher, all, voters: settled.voters.map(byLaptop), learners: settled.learners.map(byLaptop) };
}

/** Bytes that differ from file to file, the same on every run. */
function contentOf(label: string, size: number): Buffer {
  const salt = createHash('sha256').update(label).digest();
  return Buffer.from(Array.from({ length: size }, (_, i) => (salt[i % 32]! + i * 7) % 256));
}

/** The file added through the API the UI uses, in the parts it sends. */
async function upload(laptop: Laptop, name: string, content: Buffer): Promise<FileRef> {
  const { uploadId } = await laptop.peer.methods.startUpload({ name, type: 'application/octet-stream', size: content.byteLength });
  for (let offset = 0; offset < content.byteLength; offset += 384 * 1024) {
    await laptop.peer.methods.uploadChunk({ uploadId, offset, data: content.subarray(offset, offset + 384 * 1024).toString('base64') });
  }
  return laptop.peer.methods.finishUpload({ uploadId });
}

async function applied(laptop: Laptop, classId: string, command: ClassroomCommand): Promise<void> {
  const outcome = await laptop.peer.methods.submitCommand({ classId, command, waitMs: 30_000 });
  if (outcome.status !== 'applied' || outcome.result.status !== 'applied') throw new Error(`not applied: ${JSON.stringify(outcome)}`);
}

/** Whether the laptop keeps a sound copy of the file in its blob store's folder. */
async function holds(laptop: Laptop, file: FileRef): Promise<boolean> {
  const bytes = await readFile(join(laptop.dir, 'blobs', file.sha256.slice(0, 2), file.sha256)).catch(() => null);
  return bytes !== null && createHash('sha256').update(bytes).digest('hex') === file.sha256;
}

async function allHold(holders: Laptop[], files: FileRef[]): Promise<boolean> {
  for (const laptop of holders) for (const file of files) if (!(await holds(laptop, file))) return false;
  return true;
}

/**
 * Waits until `laptop` has applied everything the teacher's laptop has, then long enough for
 * its keeper to have looked at the class (it looks 250 ms after a change) and pulled a file.
 */
async function caughtUpAndSettled(laptop: Laptop, reference: Laptop, classId: string): Promise<void> {
  const target = (await classStatus(reference.peer, classId)).applied;
  await eventually(`${laptop.name} caught up`, async () => (await classStatus(laptop.peer, classId)).applied >= target);
  await new Promise((resolve) => setTimeout(resolve, 1500));
}

/** An assignment with `materials`, published. */
function assignment(materials: FileRef[]): ClassroomCommand {
  return {
    type: 'createAssignment',
    assignmentId: 'onion-cells',
    title: 'Onion cells',
    instructions: 'Draw what the microscope shows.',
    pointsPossible: 10,
    dueAt: Date.now() + 86_400_000,
    cutOffAt: null,
    materials,
    published: true,
  };
}

/** Turns `upload` in; returns the file as the class keeps it: sealed, its blob the sealed copy's. */
async function turnIn(student: Laptop, classId: string, upload: FileRef): Promise<FileRef> {
  await eventually(`the assignment on ${student.name}’s laptop`, async () => (await student.peer.methods.classroom({ classId })).assignments.length === 1);
  await applied(student, classId, { type: 'saveDraft', assignmentId: 'onion-cells', baseVersion: 0, text: 'My drawing is attached.', files: [upload] });
  await applied(student, classId, { type: 'turnIn', assignmentId: 'onion-cells' });
  const studentId = (await student.peer.methods.classroom({ classId })).me.userId;
  const [kept] = (await student.peer.methods.submission({ classId, assignmentId: 'onion-cells', studentId })).files;
  expect(kept!.sha256).not.toBe(upload.sha256);
  return kept!;
}

describe('files kept on the laptops that must keep them', () => {
  it('carries a turned-in file to every voter and teacher’s laptop and a material to the voters, not to a classmate’s learner laptop until its user teaches', async () => {
    const { classId, teacher, voters, learners } = await classOfFive();
    const [owner, classmate] = learners as [Laptop, Laptop];

    const worksheet = await upload(teacher, 'worksheet.pdf', contentOf('worksheet', 300_000));
    await applied(teacher, classId, assignment([worksheet]));
    const drawing = await turnIn(owner, classId, await upload(owner, 'drawing.png', contentOf('drawing', 1_000_000)));

    await eventually('the material on every voter', () => allHold(voters, [worksheet]), 20_000);
    await eventually('the drawing on every voter and its owner’s laptop', () => allHold([...voters, owner], [drawing]), 20_000);

    // A classmate's learner laptop has looked at the class since, and pulled nothing; nor did
    // the owner's take the material it may read but need not keep.
    await caughtUpAndSettled(classmate, teacher, classId);
    await caughtUpAndSettled(owner, teacher, classId);
    expect(await holds(classmate, drawing)).toBe(false);
    expect(await holds(classmate, worksheet)).toBe(false);
    expect(await holds(owner, worksheet)).toBe(false);

    // Its user becomes a teacher: now it keeps the class's files too.
    const classmateId = (await classmate.peer.methods.classroom({ classId })).me.userId;
    await applied(teacher, classId, { type: 'addTeacher', userId: classmateId });
    await eventually('the files on the new teacher’s laptop', () => allHold([classmate], [worksheet, drawing]), 20_000);
    expect((await classStatus(teacher.peer, classId)).learners).toContain(classmate.peer.laptopId);
  }, 60_000);

  it('gives a file turned in while the teacher’s laptop was away to it when it is back, and to a learner made a voter meanwhile', async () => {
    // A voter away for two seconds is replaced, so the class promotes one of the learners.
    const options = { autopilot: { replaceAfterMs: 2_000 } };
    const { classId, teacher, voters, learners } = await classOfFive(options);
    const studentVoters = voters.filter((laptop) => laptop !== teacher);
    const [owner, classmate] = learners as [Laptop, Laptop];
    const worksheet = await upload(teacher, 'worksheet.pdf', contentOf('worksheet', 300_000));
    await applied(teacher, classId, assignment([worksheet]));
    await eventually('the material on every voter', () => allHold(voters, [worksheet]), 20_000);

    await teacher.peer.close();
    const drawing = await turnIn(owner, classId, await upload(owner, 'drawing.png', contentOf('drawing', 1_000_000)));
    const promoted = await eventually(
      'a learner made a voter in the teacher’s place',
      async () => {
        const status = await classStatus(studentVoters[0]!.peer, classId);
        return !status.voters.includes(teacher.peer.laptopId) && learners.find((laptop) => status.voters.includes(laptop.peer.laptopId));
      },
      30_000,
    );
    await eventually('the drawing on the voters and its owner’s laptop', () => allHold([...studentVoters, promoted, owner], [drawing]), 20_000);
    await eventually('the material on the new voter', () => allHold([promoted], [worksheet]), 20_000);
    expect(await holds(teacher, drawing)).toBe(false); // away: nothing could reach it

    const back = await startLaptop(teacher.name, options, teacher.dir);
    await eventually('the drawing on the teacher’s laptop, back', () => allHold([back], [drawing]), 30_000);

    // The learner that never voted keeps only what is its own.
    const bystander = promoted === owner ? classmate : owner;
    await caughtUpAndSettled(bystander, studentVoters[0]!, classId);
    expect(await holds(bystander, worksheet)).toBe(false);
    expect(await holds(bystander, drawing)).toBe(bystander === owner);
  }, 60_000);

  it('lets a teacher who opens a file being pulled in the background wait for that pull, hurried, rather than pull it again', async () => {
    // Ben's laptop keeps files at 64 KiB/s: alone, a 1 MB file would take it sixteen seconds.
    const teacher = await startLaptop('Ms Rivera');
    const { classId, joinCode } = await teacher.peer.methods.createClass({ name: 'Biology 2' });
    const ana = await startLaptop('Ana');
    const ben = await startLaptop('Ben', { fileKeeping: { bytesPerSecond: 64 * 1024 } });
    await connectAll([teacher.peer, ana.peer, ben.peer]);
    for (const student of [ana, ben]) await student.peer.methods.joinClass({ joinCode });
    for (const student of [ana, ben]) {
      await eventually(`${student.name} registered`, async () => (await student.peer.methods.classroom({ classId })).me.role === 'student', 30_000);
    }
    const benId = (await ben.peer.methods.classroom({ classId })).me.userId;
    await applied(teacher, classId, { type: 'addTeacher', userId: benId });
    await applied(teacher, classId, assignment([]));
    const drawing = await turnIn(ana, classId, await upload(ana, 'drawing.png', contentOf('drawing', 1_000_000)));

    // The background pull has begun: a part of the file is on Ben's disk.
    const partial = () => readdir(join(ben.dir, 'blobs', 'tmp'));
    await eventually('Ben’s laptop pulling the drawing', async () => (await partial()).length > 0, 10_000);
    const started = performance.now();
    const read = await ben.peer.methods.readFile({ classId, sha256: drawing.sha256, offset: 0, length: 512 * 1024 });

    expect(read.size).toBe(drawing.size);
    expect(performance.now() - started).toBeLessThan(8_000);
    // One pull, finished: nothing else is arriving, and the copy kept is the sound one.
    expect(await partial()).toEqual([]);
    expect(await holds(ben, drawing)).toBe(true);
  }, 60_000);
});
