// The privacy proof over real peers on loopback: a teacher and two students, Ana and Ben. Ana and
// Ben write, get grades, feedback and comments; then Ben's laptop's class file is read directly
// (every table, the Raft log entries, a snapshot, the raw bytes, and the sqlite3 shell's dump
// when the shell is installed): none of Ana's text, feedback, comments or score is in it, in
// UTF-8, JSON-escaped, base64 or hex form, nor her score as a stored number. The same search
// finds the assignment's title, which is not private, in each of those places, so it is not a
// search that cannot find. Ana's laptop and the teacher's show all of it through the API.
// Ana's attached file is kept by Ben's laptop (a voter) as its sealed copy only: no 4 KiB stretch
// of it is in any file of Ben's blob folder, though the same search finds it in Ana's.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { ClassroomPeer } from '../../electron/peer/classroom-peer';
import { ClassState } from '../../electron/peer/routing/class-state';
import { SqliteStorage } from '../../electron/peer/storage';
import { applied, classroomOf, classStatus, eventually, Laptops, publishedAssignment } from './support';

const laptops = new Laptops();
afterEach(() => laptops.cleanUp());

const TITLE = 'Pendulum lab, visible to everyone';
const ANA_TEXT = 'Ana-zebra-4417: the period was “1.42 s” over ten swings';
const ANA_COMMENT = 'Ana-quokka-9031 asks: is three trials enough?';
const TEACHER_TO_ANA = 'Rivera-heron-5528: three is fine, Ana';
const ANA_FEEDBACK = 'Rivera-ibis-7702: careful work, check your units';
const ANA_SCORE = 17.25;
const BEN_TEXT = 'Ben-walrus-1186: about 1.5 s';
const ANA_FILE_NAME = 'Ana-okapi-3310 swing timings.csv';
/** Ana's attachment: 300 KB drawn from a fixed label, so every stretch of it is its own. */
const ANA_FILE = Buffer.concat(Array.from({ length: Math.ceil(300_000 / 32) }, (_, i) => createHash('sha256').update(`Ana’s timings ${i}`).digest())).subarray(
  0,
  300_000,
);

async function classroomOfThree() {
  const { teacher, students, classId } = await classroomOf(laptops, 'Ms Rivera', ['Ana', 'Ben']);
  const [ana, ben] = students as [ClassroomPeer, ClassroomPeer];
  return { teacher, ana, ben, classId };
}

/** Every form a text could take in a file: as is, JSON-escaped, base64 at each alignment, hex. */
function formsOf(text: string): Buffer[] {
  const bytes = Buffer.from(text, 'utf8');
  const forms = [bytes, Buffer.from(JSON.stringify(text).slice(1, -1)), Buffer.from(asciiJson(text).slice(1, -1))];
  for (let shift = 0; shift < 3; shift++) {
    for (const encoding of ['base64', 'base64url'] as const) {
      const encoded = bytes.subarray(shift).toString(encoding).replace(/=+$/, '');
      // The last characters depend on what follows; the middle is the same wherever it sits.
      forms.push(Buffer.from(encoded.slice(shift === 0 ? 0 : 4, encoded.length - 4)));
    }
  }
  forms.push(Buffer.from(bytes.toString('hex')), Buffer.from(bytes.toString('hex').toUpperCase()));
  return forms;
}

/** JSON with every non-ASCII character as \uXXXX. */
function asciiJson(text: string): string {
  return JSON.stringify(text).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A score's forms: its text, and the 8-byte double SQLite would store (both byte orders). */
function scoreForms(score: number): Buffer[] {
  const be = Buffer.alloc(8);
  be.writeDoubleBE(score);
  const le = Buffer.alloc(8);
  le.writeDoubleLE(score);
  return [...formsOf(String(score)), be, le, Buffer.from(be.toString('hex')), Buffer.from(be.toString('hex').toUpperCase())];
}

/** Every value of every table of a SQLite file (or image), recursing into values that are SQLite images themselves (snapshots). */
function valuesOf(db: Database.Database): Buffer[] {
  const out: Buffer[] = [];
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[];
  for (const table of tables) {
    for (const row of db.prepare(`SELECT * FROM "${table}"`).raw(true).iterate() as IterableIterator<unknown[]>) {
      for (const value of row) {
        if (value === null) continue;
        if (Buffer.isBuffer(value)) {
          out.push(value);
          if (value.subarray(0, 16).toString('latin1') === 'SQLite format 3\0') {
            const image = new Database(value);
            out.push(...valuesOf(image));
            image.close();
          }
        } else if (typeof value === 'number') {
          const double = Buffer.alloc(8);
          double.writeDoubleBE(value);
          out.push(Buffer.from(String(value)), double);
        } else {
          out.push(Buffer.from(String(value)));
        }
      }
    }
  }
  return out;
}

/** What of `secrets` (name → forms) appears anywhere in `haystack`. */
function found(haystack: Buffer[], secrets: Record<string, Buffer[]>): string[] {
  return Object.entries(secrets)
    .filter(([, forms]) => haystack.some((hay) => forms.some((form) => form.byteLength > 0 && hay.includes(form))))
    .map(([name]) => name);
}

/** Every file under `dir`, read whole. */
function filesUnder(dir: string): Buffer[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => readFileSync(join(entry.parentPath, entry.name)));
}

async function uploaded(peer: ClassroomPeer, name: string, type: string, content: Buffer) {
  const { uploadId } = await peer.methods.startUpload({ name, type, size: content.byteLength });
  await peer.methods.uploadChunk({ uploadId, offset: 0, data: content.toString('base64') });
  return peer.methods.finishUpload({ uploadId });
}

async function readWhole(peer: ClassroomPeer, classId: string, sha256: string, size: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let offset = 0; offset < size; offset += 100_000) parts.push(Buffer.from((await peer.methods.readFile({ classId, sha256, offset, length: 100_000 })).data, 'base64'));
  return Buffer.concat(parts);
}

function rawFiles(file: string): Buffer[] {
  return [file, `${file}-wal`, `${file}-shm`].filter((path) => existsSync(path)).map((path) => readFileSync(path));
}

describe('what a classmate’s laptop holds', () => {
  it('keeps Ana’s text, comments, feedback and score out of Ben’s class file and her file out of his blob folder, and shows them to Ana and the teacher', async () => {
    const { teacher, ana, ben, classId } = await classroomOfThree();
    await applied(teacher, classId, {
      type: 'createAssignment',
      assignmentId: 'lab-pendulum',
      title: TITLE,
      instructions: 'Time ten swings.',
      pointsPossible: 20,
      dueAt: Date.now() + 86_400_000,
      cutOffAt: null,
      materials: [],
      published: true,
    });
    const anaId = (await ana.methods.classroom({ classId })).me.userId;
    const benId = (await ben.methods.classroom({ classId })).me.userId;
    for (const student of [ana, ben]) {
      await eventually('the assignment on the student’s laptop', async () => (await student.methods.classroom({ classId })).assignments.length === 1);
    }
    const upload = await uploaded(ana, ANA_FILE_NAME, 'text/csv', ANA_FILE);
    await applied(ana, classId, { type: 'saveDraft', assignmentId: 'lab-pendulum', baseVersion: 0, text: ANA_TEXT, files: [upload] });
    await applied(ana, classId, { type: 'turnIn', assignmentId: 'lab-pendulum' });
    await applied(ana, classId, { type: 'comment', commentId: 'comment-ana-0001', assignmentId: 'lab-pendulum', studentId: anaId, text: ANA_COMMENT });
    await applied(ben, classId, { type: 'saveDraft', assignmentId: 'lab-pendulum', baseVersion: 0, text: BEN_TEXT, files: [] });
    await applied(ben, classId, { type: 'turnIn', assignmentId: 'lab-pendulum' });
    await eventually('the work on the teacher’s laptop', async () => {
      const [a, b] = await Promise.all([anaId, benId].map((studentId) => teacher.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId })));
      return a!.turnedIn && b!.turnedIn && a!.comments.length === 1;
    });
    await applied(teacher, classId, { type: 'comment', commentId: 'comment-t-0001', assignmentId: 'lab-pendulum', studentId: anaId, text: TEACHER_TO_ANA });
    await applied(teacher, classId, { type: 'grade', assignmentId: 'lab-pendulum', studentId: anaId, baseVersion: 0, score: ANA_SCORE, feedback: ANA_FEEDBACK });
    await applied(teacher, classId, { type: 'returnGrade', assignmentId: 'lab-pendulum', studentId: anaId });
    await applied(teacher, classId, { type: 'grade', assignmentId: 'lab-pendulum', studentId: benId, baseVersion: 0, score: 12, feedback: 'Ben: fine' });
    await applied(teacher, classId, { type: 'returnGrade', assignmentId: 'lab-pendulum', studentId: benId });

    // Ana and the teacher read everything, her file included; Ben his own.
    const expected = {
      text: ANA_TEXT,
      files: [{ name: ANA_FILE_NAME, type: 'text/csv', size: ANA_FILE.byteLength }],
      grade: { score: ANA_SCORE, feedback: ANA_FEEDBACK },
      comments: [{ text: ANA_COMMENT }, { text: TEACHER_TO_ANA }],
    };
    let sealedFile = '';
    for (const reader of [ana, teacher]) {
      const view = await eventually('Ana’s returned grade', async () => {
        const s = await reader.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId });
        return s.status === 'returned' && s;
      });
      expect(view).toMatchObject(expected);
      sealedFile = view.files[0]!.sha256;
      expect((await readWhole(reader, classId, sealedFile, ANA_FILE.byteLength)).equals(ANA_FILE)).toBe(true);
    }
    expect(sealedFile).not.toBe(upload.sha256);
    await expect(ben.methods.readFile({ classId, sha256: sealedFile, offset: 0, length: 10 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    // Ben's laptop is one of the class's three voters, so it keeps Ana's file: its sealed copy.
    expect((await classStatus(ben, classId)).voters).toContain(ben.laptopId);
    const benBlob = join(laptops.dirs[2]!, 'blobs', sealedFile.slice(0, 2), sealedFile);
    await eventually('Ana’s file kept on Ben’s laptop', async () => existsSync(benBlob) && createHash('sha256').update(readFileSync(benBlob)).digest('hex') === sealedFile, 30_000);
    expect((await teacher.methods.gradebook({ classId })).rows.find((row) => row.student.userId === anaId)!.cells[0]!.score).toBe(ANA_SCORE);
    const bens = await eventually('Ben’s returned grade', async () => {
      const s = await ben.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: benId });
      return s.status === 'returned' && s;
    });
    expect(bens).toMatchObject({ text: BEN_TEXT, grade: { score: 12, feedback: 'Ben: fine' } });
    await eventually('the same copy on every laptop', async () => {
      const statuses = await Promise.all([teacher, ana, ben].map((p) => classStatus(p, classId)));
      return statuses.every((s) => s.digest === statuses[0]!.digest && s.applied === statuses[0]!.applied);
    });

    await ben.close();
    const file = join(laptops.dirs[2]!, 'classes', `${classId}.sqlite`);
    const secrets = {
      'Ana’s text': formsOf(ANA_TEXT),
      'Ana’s comment': formsOf(ANA_COMMENT),
      'the teacher’s comment to Ana': formsOf(TEACHER_TO_ANA),
      'Ana’s feedback': formsOf(ANA_FEEDBACK),
      'Ana’s score': scoreForms(ANA_SCORE),
      'the name of Ana’s file': formsOf(ANA_FILE_NAME),
    };
    const title = { 'the assignment’s title': formsOf(TITLE) };
    const readTables = () => {
      const db = new Database(file, { readonly: true });
      try {
        return valuesOf(db);
      } finally {
        db.close();
      }
    };

    // The tables and the Raft log entries, through SQLite, and the file's raw bytes.
    const logEntries = new Database(file, { readonly: true });
    expect(logEntries.prepare('SELECT count(*) FROM raft_log').pluck().get()).toBeGreaterThan(10);
    logEntries.close();
    for (const haystack of [readTables(), rawFiles(file)]) {
      expect(found(haystack, secrets)).toEqual([]);
      expect(found(haystack, title)).toEqual(['the assignment’s title']);
    }

    // A snapshot, as compaction takes it: the log goes, an image of the tables is kept.
    const storage = SqliteStorage.open(file, new ClassState(classId));
    storage.createSnapshot();
    storage.close();
    const snapshotDb = new Database(file, { readonly: true });
    const images = snapshotDb.prepare('SELECT data FROM raft_snapshot_data').pluck().all() as Buffer[];
    snapshotDb.close();
    expect(images.length).toBe(1);
    const image = new Database(images[0]!);
    const inImage = valuesOf(image);
    image.close();
    expect(found(inImage, secrets)).toEqual([]);
    expect(found(inImage, title)).toEqual(['the assignment’s title']);
    expect(found([...readTables(), ...rawFiles(file)], secrets)).toEqual([]);

    // Ben's blob folder: the sealed copy of Ana's file is there, and no 4 KiB stretch of the file
    // itself, at any of these places in it; Ana's own folder, where she uploaded it, has each.
    const stretches = [0, 4096 * 7 + 1234, 150_000, ANA_FILE.byteLength - 4096].map((at) => ANA_FILE.subarray(at, at + 4096));
    const benBlobs = filesUnder(join(laptops.dirs[2]!, 'blobs'));
    expect(benBlobs.some((bytes) => bytes.byteLength > ANA_FILE.byteLength && createHash('sha256').update(bytes).digest('hex') === sealedFile)).toBe(true);
    expect(stretches.filter((stretch) => benBlobs.some((bytes) => bytes.includes(stretch))).length).toBe(0);
    const anaBlobs = filesUnder(join(laptops.dirs[1]!, 'blobs'));
    expect(stretches.filter((stretch) => anaBlobs.some((bytes) => bytes.includes(stretch))).length).toBe(stretches.length);

    // The sqlite3 shell's dump, when the shell is installed (CI installs it).
    let dump: string | null = null;
    try {
      dump = execFileSync('sqlite3', ['-readonly', file, '.dump'], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      console.log('sqlite3 is not installed: the dump check is skipped');
    }
    if (dump !== null) {
      expect(found([Buffer.from(dump)], secrets)).toEqual([]);
      expect(found([Buffer.from(dump)], title)).toEqual(['the assignment’s title']);
    }
  }, 120_000);
});

describe('a teacher added to a class with work in it', () => {
  it('reads the earlier work, its file, grades and comments once the teacher’s laptop has passed the keys on', async () => {
    const { teacher, ana, ben: okafor, classId } = await classroomOfThree();
    await applied(teacher, classId, publishedAssignment('lab-pendulum', TITLE));
    const anaId = (await ana.methods.classroom({ classId })).me.userId;
    const okaforId = (await okafor.methods.classroom({ classId })).me.userId;
    await eventually('the assignment on Ana’s laptop', async () => (await ana.methods.classroom({ classId })).assignments.length === 1);
    const upload = await uploaded(ana, ANA_FILE_NAME, 'text/csv', ANA_FILE);
    await applied(ana, classId, { type: 'saveDraft', assignmentId: 'lab-pendulum', baseVersion: 0, text: ANA_TEXT, files: [upload] });
    await applied(ana, classId, { type: 'comment', commentId: 'comment-ana-0001', assignmentId: 'lab-pendulum', studentId: anaId, text: ANA_COMMENT });
    await eventually('Ana’s draft on the teacher’s laptop', async () => (await teacher.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId })).version === 1);
    await applied(teacher, classId, { type: 'grade', assignmentId: 'lab-pendulum', studentId: anaId, baseVersion: 0, score: ANA_SCORE, feedback: ANA_FEEDBACK });

    // The third laptop's user, a student until now, is made a teacher; the teacher's laptop passes the keys on.
    await applied(teacher, classId, { type: 'addTeacher', userId: okaforId });
    const view = await eventually('Ana’s work readable on the new teacher’s laptop', async () => {
      const s = await okafor.methods.submission({ classId, assignmentId: 'lab-pendulum', studentId: anaId }).catch(() => null);
      return s?.text === ANA_TEXT && s.grade?.score === ANA_SCORE && s;
    }, 30_000);
    expect(view).toMatchObject({
      text: ANA_TEXT,
      files: [{ name: ANA_FILE_NAME, type: 'text/csv', size: ANA_FILE.byteLength }],
      grade: { score: ANA_SCORE, feedback: ANA_FEEDBACK },
      comments: [{ text: ANA_COMMENT }],
    });
    expect((await readWhole(okafor, classId, view.files[0]!.sha256, ANA_FILE.byteLength)).equals(ANA_FILE)).toBe(true);
    expect((await okafor.methods.gradebook({ classId })).rows.find((row) => row.student.userId === anaId)!.cells[0]!.score).toBe(ANA_SCORE);
  }, 120_000);
});
