// The classroom state machine at the size of a school year: 40 students, 200 assignments,
// 8,000 turned-in submissions, all graded. Figures only, no assertions.
//   npx tsx bench/classroom.ts
// Measures signed commands applied per second (signature check, rules, tables; in one
// transaction per 100 like the Ready loop's batches; no fsync, which storage.ts measures) and
// the time to read the whole gradebook as a teacher and as a student, and to export its CSV.
// Writes bench/results/classroom.json.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { applyClassroomCommand, CLASSROOM_MIGRATIONS, gradebook, gradebookCsv, signCommand } from '../electron/classroom';
import { generateIdentity } from '../electron/peer/transport/identity';
import type { ClassroomCommand, SignedCommand } from '../shared/classroom/commands';

const CLASS_ID = 'bench-class';
const STUDENTS = 40;
const ASSIGNMENTS = 200;
const START = Date.UTC(2026, 8, 1);

const dir = mkdtempSync(join(tmpdir(), 'quorum-bench-classroom-'));
try {
  const db = new Database(join(dir, 'class.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  for (const migrate of CLASSROOM_MIGRATIONS) migrate(db);

  const teacher = generateIdentity();
  const students = Array.from({ length: STUDENTS }, () => generateIdentity());
  let clock = START;
  const sign = (author: typeof teacher, command: ClassroomCommand) => signCommand(author, CLASS_ID, command, { clientTime: clock });
  const log: SignedCommand[] = [
    sign(teacher, { type: 'createClass', name: 'Physics', subject: 'Year', displayName: 'Teacher', laptopId: 'laptop-teacher', joinCode: 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789' }),
    ...students.map((s, i) => sign(s, { type: 'joinClass', displayName: `Student ${String(i).padStart(2, '0')}`, laptopId: `laptop-${i}` })),
  ];
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
    for (const student of students) {
      log.push(sign(student, { type: 'saveDraft', assignmentId, baseVersion: 0, text: 'My answers: '.padEnd(400, 'x'), files: [] }));
      log.push(sign(student, { type: 'turnIn', assignmentId }));
      log.push(sign(teacher, { type: 'grade', assignmentId, studentId: student.laptopId, baseVersion: 0, score: 8, feedback: 'Well done.' }));
      log.push(sign(teacher, { type: 'returnGrade', assignmentId, studentId: student.laptopId }));
    }
  }
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
  const results = {
    date: new Date().toISOString(),
    size: { students: STUDENTS, assignments: ASSIGNMENTS, submissions: STUDENTS * ASSIGNMENTS, commands: entries.length, rejected },
    commandsAppliedPerSecond: Math.round(entries.length / applySeconds),
    gradebookTeacherMs: time(() => gradebook(db, teacher.laptopId, clock)),
    gradebookStudentMs: time(() => gradebook(db, students[7]!.laptopId, clock)),
    gradebookCsvMs: time(() => gradebookCsv(db, teacher.laptopId, clock)),
  };
  console.log(`classroom of ${STUDENTS} students × ${ASSIGNMENTS} assignments (${entries.length} signed commands, ${rejected} refused)`);
  console.log(`  signed commands applied/s (signature check + rules + tables): ${results.commandsAppliedPerSecond}`);
  console.log(`  gradebook as the teacher: ${results.gradebookTeacherMs} ms (median of 7)`);
  console.log(`  gradebook as a student:   ${results.gradebookStudentMs} ms`);
  console.log(`  gradebook CSV export:     ${results.gradebookCsvMs} ms`);
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'classroom.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote ${out}`);
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
