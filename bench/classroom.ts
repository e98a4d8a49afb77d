// The classroom state machine at the size of a school year: 40 students, 200 assignments,
// 8,000 turned-in submissions, all graded. Figures only, no assertions.
//   npx tsx bench/classroom.ts
// Measures signed commands applied per second (signature check, rules, tables; in one
// transaction per 100 like the Ready loop's batches; no fsync, which storage.ts measures) and
// the time to read the whole gradebook as a teacher and as a student, and to export its CSV.
// Drafts, grades and comments are sealed (every submission's text for its student and the
// teacher, every grade for the teacher and, once returned, the student), so it also measures
// sealing and signing on the author's laptop, and the gradebook opened with decryption: cold (a
// laptop that just started: one key agreement per author met, then a key derivation and two
// AES-GCM openings per grade) and warm (content keys and opened grades in memory). The
// same reads without any key show what the queries cost alone. The figures of the last run made
// before items were sealed are kept beside these under `unencrypted`.
// Writes bench/results/classroom.json.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { applyClassroomCommand, BoxOpener, CLASSROOM_MIGRATIONS, generateBoxKeyPair, gradebook, gradebookCsv, NO_KEYS, signCommand } from '../electron/classroom';
import { PairwiseWrapper } from '../electron/classroom/sealing/box';
import { sealItem, wrapKeyFor, type ItemAddress } from '../electron/classroom/sealing/items';
import { generateIdentity } from '../electron/peer/transport/identity';
import type { LogCommand, SignedCommand } from '../shared/classroom/commands';

const CLASS_ID = 'bench-class';
const STUDENTS = 40;
const ASSIGNMENTS = 200;
const START = Date.UTC(2026, 8, 1);

const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'classroom.json');
const unencrypted = previousUnencrypted(out);
const dir = mkdtempSync(join(tmpdir(), 'quorum-bench-classroom-'));
try {
  const db = new Database(join(dir, 'class.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  for (const migrate of CLASSROOM_MIGRATIONS) migrate(db);

  const teacher = generateIdentity();
  const teacherBox = generateBoxKeyPair();
  const students = Array.from({ length: STUDENTS }, () => generateIdentity());
  const studentBoxes = students.map(() => generateBoxKeyPair());
  // Each author's laptop wraps keys with its own box key pair, keeping the secret it agreed on with each reader.
  const teacherWrapper = new PairwiseWrapper(teacherBox);
  const studentWrappers = studentBoxes.map((box) => new PairwiseWrapper(box));
  let clock = START;
  let ids = 0;
  const sign = (author: typeof teacher, command: LogCommand, commandId = `command-${String(ids++).padStart(8, '0')}`) =>
    signCommand(author, CLASS_ID, command, { clientTime: clock, commandId });
  const nextId = () => `command-${String(ids++).padStart(8, '0')}`;
  const teacherReader = { userId: teacher.laptopId, boxKey: teacherBox.publicKey };
  const address = (kind: ItemAddress['kind'], assignmentId: string, studentId: string, itemId: string): ItemAddress => ({ classId: CLASS_ID, kind, assignmentId, studentId, itemId });
  const log: SignedCommand[] = [
    sign(teacher, {
      type: 'createClass',
      name: 'Physics',
      subject: 'Year',
      displayName: 'Teacher',
      laptopId: 'laptop-teacher',
      joinCode: 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789',
      boxKey: teacherBox.publicKey,
    }),
    ...students.map((s, i) => sign(s, { type: 'joinClass', displayName: `Student ${String(i).padStart(2, '0')}`, laptopId: `laptop-${i}`, boxKey: studentBoxes[i]!.publicKey })),
  ];
  // Sealing and signing as the authors' laptops do (sealCommand's work, without reading recipients from a class file).
  const sealStart = performance.now();
  let sealedCommands = 0;
  for (let a = 0; a < ASSIGNMENTS; a++) {
    const assignmentId = `assignment-${String(a).padStart(4, '0')}`;
    log.push(
      sign(teacher, {
        type: 'createAssignment',
        assignmentId,
        title: `Assignment ${a}`,
        instructions: 'Do the exercises on page 12.',
        pointsPossible: 10,
        dueAt: START + a * 86_400_000,
        cutOffAt: null,
        materials: [],
        published: true,
      }),
    );
    for (const [i, student] of students.entries()) {
      const studentReader = { userId: student.laptopId, boxKey: studentBoxes[i]!.publicKey };
      const draftId = nextId();
      const draft = sealItem(address('submission', assignmentId, student.laptopId, draftId), { text: 'My answers: '.padEnd(400, 'x') }, [studentReader, teacherReader], studentWrappers[i]!);
      log.push(sign(student, { type: 'saveDraft', assignmentId, baseVersion: 0, files: [], sealed: draft.sealed }, draftId));
      log.push(sign(student, { type: 'turnIn', assignmentId }));
      const gradeId = nextId();
      const grade = sealItem(address('grade', assignmentId, student.laptopId, gradeId), { score: 8, feedback: 'Well done.' }, [teacherReader], teacherWrapper);
      log.push(sign(teacher, { type: 'grade', assignmentId, studentId: student.laptopId, baseVersion: 0, scored: true, sealed: grade.sealed }, gradeId));
      const studentKey = wrapKeyFor(grade.contentKey, CLASS_ID, gradeId, studentReader, teacherWrapper);
      log.push(sign(teacher, { type: 'returnGrade', assignmentId, studentId: student.laptopId, itemId: gradeId, studentKey }));
      sealedCommands += 4;
    }
  }
  const sealSeconds = (performance.now() - sealStart) / 1000;
  // As it travels in the log: JSON text, parsed on apply.
  const entries = log.map((signed) => JSON.stringify(signed));

  const applyStart = performance.now();
  let rejected = 0;
  for (let i = 0; i < entries.length; i += 100) {
    db.transaction(() => {
      for (const text of entries.slice(i, i + 100)) {
        clock += 1000;
        if (applyClassroomCommand(db, CLASS_ID, JSON.parse(text), clock).status !== 'applied') rejected++;
      }
    })();
  }
  const applySeconds = (performance.now() - applyStart) / 1000;

  const time = (run: () => unknown, times = 7) => {
    const samples: number[] = [];
    for (let i = 0; i < times; i++) {
      const t = performance.now();
      run();
      samples.push(performance.now() - t);
    }
    samples.sort((x, y) => x - y);
    return Math.round(samples[Math.floor(samples.length / 2)]! * 100) / 100;
  };
  const teacherOpener = () => new BoxOpener(teacher.laptopId, teacherBox);
  const studentOpener = () => new BoxOpener(students[7]!.laptopId, studentBoxes[7]!);
  const warmTeacher = teacherOpener();
  const warmStudent = studentOpener();
  const book = gradebook(db, warmTeacher, clock);
  const opened = book.rows.flatMap((row) => row.cells).filter((cell) => cell.score === 8).length;
  const results = {
    date: new Date().toISOString(),
    size: { students: STUDENTS, assignments: ASSIGNMENTS, submissions: STUDENTS * ASSIGNMENTS, commands: entries.length, rejected, gradesOpened: opened },
    commandsAppliedPerSecond: Math.round(entries.length / applySeconds),
    sealed: {
      /** Drafts, grades and returns sealed and signed per second on the authors' laptops. */
      sealedAndSignedPerSecond: Math.round(sealedCommands / sealSeconds),
      /** Every command of the year applied per second, sealed ones included (as commandsAppliedPerSecond). */
      commandsAppliedPerSecond: Math.round(entries.length / applySeconds),
      /** The teacher's gradebook, every grade opened on a laptop that just started (one key agreement per author met). */
      gradebookTeacherColdMs: time(() => gradebook(db, teacherOpener(), clock), 3),
      gradebookTeacherWarmMs: time(() => gradebook(db, warmTeacher, clock)),
      gradebookStudentColdMs: time(() => gradebook(db, studentOpener(), clock)),
      gradebookStudentWarmMs: time(() => gradebook(db, warmStudent, clock)),
      gradebookCsvWarmMs: time(() => gradebookCsv(db, warmTeacher, clock)),
      /** The same reads opening nothing: what the queries cost without decryption. */
      gradebookTeacherWithoutKeysMs: time(() => gradebook(db, NO_KEYS(teacher.laptopId), clock)),
    },
    unencrypted,
  };
  console.log(`classroom of ${STUDENTS} students × ${ASSIGNMENTS} assignments (${entries.length} signed commands, ${rejected} refused)`);
  console.log(`  sealed + signed on the author's laptop/s:                     ${results.sealed.sealedAndSignedPerSecond}`);
  console.log(`  signed commands applied/s (signature, rules, tables, items):  ${results.commandsAppliedPerSecond}`);
  console.log(`  gradebook as the teacher, ${opened} grades opened: cold ${results.sealed.gradebookTeacherColdMs} ms, warm ${results.sealed.gradebookTeacherWarmMs} ms (median)`);
  console.log(`  gradebook as a student: cold ${results.sealed.gradebookStudentColdMs} ms, warm ${results.sealed.gradebookStudentWarmMs} ms`);
  console.log(`  gradebook CSV export (warm): ${results.sealed.gradebookCsvWarmMs} ms; the teacher's gradebook opening nothing: ${results.sealed.gradebookTeacherWithoutKeysMs} ms`);
  if (unencrypted) {
    console.log(
      `  before sealing (${unencrypted.date}): ${unencrypted.commandsAppliedPerSecond} applied/s, gradebook teacher ${unencrypted.gradebookTeacherMs} ms, student ${unencrypted.gradebookStudentMs} ms, CSV ${unencrypted.gradebookCsvMs} ms`,
    );
  }
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${out}`);
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** The figures of the last run before items were sealed: kept from the results file, which holds them itself or under `unencrypted`. */
function previousUnencrypted(path: string): { date: string; commandsAppliedPerSecond: number; gradebookTeacherMs: number; gradebookStudentMs: number; gradebookCsvMs: number } | null {
  if (!existsSync(path)) return null;
  const previous = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  if (previous.unencrypted !== undefined) return previous.unencrypted as ReturnType<typeof previousUnencrypted>;
  if (previous.sealed !== undefined || typeof previous.gradebookTeacherMs !== 'number') return null;
  const { date, commandsAppliedPerSecond, gradebookTeacherMs, gradebookStudentMs, gradebookCsvMs } = previous as Record<string, never>;
  return { date, commandsAppliedPerSecond, gradebookTeacherMs, gradebookStudentMs, gradebookCsvMs };
}
