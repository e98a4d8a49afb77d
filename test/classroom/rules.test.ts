// The classroom's rules, checked on every laptop alike: who may do what, signatures, replays,
// stale edits, turning in and lateness, grading and what students see.
import { describe, expect, it } from 'vitest';
import { assignments, gradebook, gradebookCsv, rejectionsFor, signCommand, submission } from '../../electron/classroom';
import type { ClassroomCommand } from '../../shared/classroom/commands';
import { assignment, CLASS_ID, classWith, expectApplied, HOUR, Replica, START, TEST_JOIN_CODE, user } from './support';

describe('who may do what', () => {
  it('lets only teachers create assignments, grade or return; a student acts only on their own work', () => {
    const { replica, teacher, students } = classWith(['Ana', 'Ben']);
    const [ana, ben] = students as [typeof students[0], typeof students[0]];
    expect(replica.run(ana, assignment('lab-0001'))).toMatchObject({ status: 'rejected', code: 'NOT_ALLOWED' });
    expectApplied(replica.run(teacher, assignment('lab-0001')));
    expectApplied(replica.run(ana, { type: 'turnIn', assignmentId: 'lab-0001' }));
    expect(replica.run(ana, { type: 'grade', assignmentId: 'lab-0001', studentId: ana.id, baseVersion: 0, score: 20, feedback: '' })).toMatchObject({
      status: 'rejected',
      code: 'NOT_ALLOWED',
    });
    expect(replica.run(ana, { type: 'comment', commentId: 'comment-0001', assignmentId: 'lab-0001', studentId: ben.id, text: 'hi' })).toMatchObject({
      code: 'NOT_ALLOWED',
    });
    expect(() => submission(replica.db, ana.opener, 'lab-0001', ben.id, replica.now)).toThrow(/only see your own work/);
    // The private thread: the student and the teachers.
    expectApplied(replica.run(ana, { type: 'comment', commentId: 'comment-0002', assignmentId: 'lab-0001', studentId: ana.id, text: 'Is the graph needed?' }));
    expectApplied(replica.run(teacher, { type: 'comment', commentId: 'comment-0003', assignmentId: 'lab-0001', studentId: ana.id, text: 'Yes, one.' }));
    expect(submission(replica.db, ana.opener, 'lab-0001', ana.id, replica.now).comments.map((c) => `${c.authorName}: ${c.text}`)).toEqual([
      'Ana: Is the graph needed?',
      'Ms Rivera: Yes, one.',
    ]);
  });

  it('refuses a command from someone outside the class, and from a removed student', () => {
    const { replica, teacher, students } = classWith(['Ana']);
    const stranger = user('Stranger');
    expect(replica.run(stranger, assignment('lab-0001'))).toMatchObject({ code: 'NOT_A_MEMBER' });
    expectApplied(replica.run(teacher, assignment('lab-0001')));
    expectApplied(replica.run(teacher, { type: 'removeMember', userId: students[0]!.id }));
    expect(replica.run(students[0]!, { type: 'turnIn', assignmentId: 'lab-0001' })).toMatchObject({ code: 'NOT_A_MEMBER' });
    expect(replica.run(students[0]!, { type: 'joinClass', displayName: 'Ana', laptopId: 'laptop-x' })).toMatchObject({ code: 'NOT_ALLOWED' });
  });

  it('keeps at least one teacher', () => {
    const { replica, teacher } = classWith([]);
    expect(replica.run(teacher, { type: 'removeMember', userId: teacher.id })).toMatchObject({ code: 'NOT_ALLOWED' });
  });
});

describe('signatures and replays', () => {
  it('refuses a command whose signature is not its author’s, or that was changed after signing', () => {
    const { replica, teacher, students } = classWith(['Ana']);
    expectApplied(replica.run(teacher, assignment('lab-0001')));
    // Ana signs a grade but claims to be the teacher (the teacher's public key on Ana's signature).
    const forged = replica.seal(students[0]!, { type: 'grade', assignmentId: 'lab-0001', studentId: students[0]!.id, baseVersion: 0, score: 20, feedback: '' });
    const asTeacher = { ...forged, publicKey: Buffer.from(teacher.identity.publicKey).toString('base64url') };
    expect(replica.apply(asTeacher)).toMatchObject({ status: 'rejected', code: 'BAD_SIGNATURE' });
    // The teacher's own grade, said on the way to have no score.
    const real = replica.seal(teacher, { type: 'grade', assignmentId: 'lab-0001', studentId: students[0]!.id, baseVersion: 0, score: 5, feedback: '' });
    expect(replica.apply({ ...real, command: { ...real.command, scored: false } })).toMatchObject({ code: 'BAD_SIGNATURE' });
    expectApplied(replica.apply(real));
  });

  it('refuses a replayed command and one signed for another class', () => {
    const { replica, teacher } = classWith([]);
    const create = signCommand(teacher.identity, CLASS_ID, assignment('lab-0001'));
    expectApplied(replica.apply(create));
    expect(replica.apply(create)).toMatchObject({ code: 'REPLAYED' });
    const elsewhere = signCommand(teacher.identity, 'another-class', assignment('lab-0002'));
    expect(replica.apply(elsewhere)).toMatchObject({ code: 'WRONG_CLASS' });
  });

  it('refuses malformed input with a sentence and changes nothing', () => {
    const { replica } = classWith(['Ana']);
    const before = replica.digest();
    for (const junk of [null, 42, 'text', {}, { version: '1' }, { version: '2', command: {} }]) {
      expect(replica.apply(junk)).toMatchObject({ status: 'rejected', code: 'MALFORMED', reason: expect.stringMatching(/could not be read/) });
    }
    expect(replica.digest()).toBe(before);
  });
});

describe('edits of the same item from two places', () => {
  it('refuses a stale edit with the current version, and lists it for its author', () => {
    const { replica, teacher } = classWith([]);
    const coTeacher = user('Mr Okafor');
    expectApplied(replica.run(coTeacher, { type: 'joinClass', displayName: coTeacher.name, laptopId: 'laptop-c' }));
    expectApplied(replica.run(teacher, { type: 'addTeacher', userId: coTeacher.id }));
    expectApplied(replica.run(teacher, assignment('lab-0001')));
    const edit = { ...assignment('lab-0001'), type: 'editAssignment' as const, baseVersion: 1 };
    expectApplied(replica.run(teacher, { ...edit, title: 'Pendulums (revised)' }));
    const stale = replica.run(coTeacher, { ...edit, title: 'Pendulums: my version' });
    expect(stale).toMatchObject({ status: 'rejected', code: 'STALE', currentVersion: 2 });
    expect(assignments(replica.db, teacher.id)[0]!.title).toBe('Pendulums (revised)');
    expect(rejectionsFor(replica.db, coTeacher.id)).toEqual([expect.objectContaining({ type: 'editAssignment', code: 'STALE' })]);
  });
});

describe('turning in', () => {
  it('judges lateness by the committed time, keeps the student’s own clock beside it, and keeps every attempt', () => {
    const { replica, teacher, students } = classWith(['Ana']);
    const ana = students[0]!;
    expectApplied(replica.run(teacher, assignment('lab-0001', { dueAt: START + 2 * HOUR })));
    expectApplied(replica.run(ana, { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 0, text: 'Period: 1.4 s', files: [] }));
    // Pressed on time on an offline laptop, committed after the due date: late.
    expectApplied(replica.run(ana, { type: 'turnIn', assignmentId: 'lab-0001' }, { clientTime: START + HOUR, at: START + 3 * HOUR }));
    let view = submission(replica.db, teacher.opener, 'lab-0001', ana.id, replica.now);
    expect(view).toMatchObject({ status: 'late', turnedInAt: START + 3 * HOUR, turnedInClientAt: START + HOUR, attempts: 1 });
    expectApplied(replica.run(ana, { type: 'unsubmit', assignmentId: 'lab-0001' }));
    expectApplied(replica.run(ana, { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 3, text: 'Period: 1.42 s', files: [] }));
    expectApplied(replica.run(ana, { type: 'turnIn', assignmentId: 'lab-0001' }));
    view = submission(replica.db, ana.opener, 'lab-0001', ana.id, replica.now);
    expect(view).toMatchObject({ turnedIn: true, attempts: 2, text: 'Period: 1.42 s' });
    // Every attempt keeps the sealed text it was turned in with, for Ana and the teacher alike.
    const attempts = replica.db.prepare('SELECT item_id FROM attempts ORDER BY attempt').pluck().all() as string[];
    for (const reader of [ana, teacher]) {
      expect(attempts.map((itemId) => reader.opener.open(replica.db, itemId))).toEqual([{ text: 'Period: 1.4 s' }, { text: 'Period: 1.42 s' }]);
    }
  });

  it('accepts nothing after the cut-off, and nothing changes once the grade is returned', () => {
    const { replica, teacher, students } = classWith(['Ana', 'Ben']);
    const [ana, ben] = students as [typeof students[0], typeof students[0]];
    expectApplied(replica.run(teacher, assignment('lab-0001', { dueAt: START + 2 * HOUR, cutOffAt: START + 4 * HOUR })));
    expectApplied(replica.run(ana, { type: 'turnIn', assignmentId: 'lab-0001' }, { at: START + HOUR }));
    expectApplied(replica.run(teacher, { type: 'grade', assignmentId: 'lab-0001', studentId: ana.id, baseVersion: 0, score: 18, feedback: 'Good' }));
    expectApplied(replica.run(teacher, { type: 'returnGrade', assignmentId: 'lab-0001', studentId: ana.id }));
    expect(replica.run(ana, { type: 'unsubmit', assignmentId: 'lab-0001' })).toMatchObject({ code: 'CLOSED' });
    expect(replica.run(ben, { type: 'turnIn', assignmentId: 'lab-0001' }, { at: START + 5 * HOUR })).toMatchObject({ code: 'CLOSED' });
    expect(submission(replica.db, teacher.opener, 'lab-0001', ben.id, START + 5 * HOUR).status).toBe('missing');
  });

  it('gives a student with an extension their own due date', () => {
    const { replica, teacher, students } = classWith(['Ana', 'Ben']);
    const [ana, ben] = students as [typeof students[0], typeof students[0]];
    expectApplied(replica.run(teacher, assignment('lab-0001', { dueAt: START + 2 * HOUR })));
    expectApplied(replica.run(teacher, { type: 'grantExtension', assignmentId: 'lab-0001', studentId: ana.id, dueAt: START + 24 * HOUR }));
    expectApplied(replica.run(ana, { type: 'turnIn', assignmentId: 'lab-0001' }, { at: START + 10 * HOUR }));
    expectApplied(replica.run(ben, { type: 'turnIn', assignmentId: 'lab-0001' }, { at: START + 10 * HOUR }));
    expect(submission(replica.db, teacher.opener, 'lab-0001', ana.id, replica.now).status).toBe('turnedIn');
    expect(submission(replica.db, teacher.opener, 'lab-0001', ben.id, replica.now).status).toBe('late');
    expect(assignments(replica.db, ana.id)[0]!.dueAt).toBe(START + 24 * HOUR);
    // The gradebook carries each student's own date beside the assignment's.
    const book = gradebook(replica.db, teacher.opener, replica.now);
    expect(book.assignments[0]!.dueAt).toBe(START + 2 * HOUR);
    expect(book.rows.map((row) => [row.student.displayName, row.cells[0]!.dueAt, row.cells[0]!.extended])).toEqual([
      ['Ana', START + 24 * HOUR, true],
      ['Ben', START + 2 * HOUR, false],
    ]);
    expect(gradebook(replica.db, ana.opener, replica.now).rows[0]!.cells[0]).toMatchObject({ dueAt: START + 24 * HOUR, extended: true });
  });
});

describe('grades and what students see', () => {
  it('keeps a draft grade from the student until it is returned; a student’s gradebook is their own row', () => {
    const { replica, teacher, students } = classWith(['Ana', 'Ben']);
    const [ana, ben] = students as [typeof students[0], typeof students[0]];
    expectApplied(replica.run(teacher, assignment('lab-0001')));
    expectApplied(replica.run(teacher, assignment('draft-0001', { published: false })));
    expectApplied(replica.run(ana, { type: 'turnIn', assignmentId: 'lab-0001' }));
    expectApplied(replica.run(teacher, { type: 'grade', assignmentId: 'lab-0001', studentId: ana.id, baseVersion: 0, score: 15, feedback: 'Check units' }));
    expect(submission(replica.db, ana.opener, 'lab-0001', ana.id, replica.now)).toMatchObject({ status: 'turnedIn', grade: null });
    expect(submission(replica.db, teacher.opener, 'lab-0001', ana.id, replica.now)).toMatchObject({ status: 'graded', grade: { score: 15 } });
    expectApplied(replica.run(teacher, { type: 'returnGrade', assignmentId: 'lab-0001', studentId: ana.id }));
    // A later draft change stays the teacher's until returned again.
    expectApplied(replica.run(teacher, { type: 'grade', assignmentId: 'lab-0001', studentId: ana.id, baseVersion: 2, score: 16, feedback: 'Regraded' }));
    expect(submission(replica.db, ana.opener, 'lab-0001', ana.id, replica.now)).toMatchObject({ status: 'returned', grade: { score: 15, feedback: 'Check units' } });

    const own = gradebook(replica.db, ana.opener, replica.now);
    expect(own.rows.map((r) => r.student.userId)).toEqual([ana.id]);
    expect(own.assignments.map((a) => a.assignmentId)).toEqual(['lab-0001']);
    const all = gradebook(replica.db, teacher.opener, replica.now);
    expect(all.rows.map((r) => r.student.displayName)).toEqual(['Ana', 'Ben']);
    expect(all.assignments).toHaveLength(2);
    expect(() => gradebookCsv(replica.db, ben.opener, replica.now)).toThrow(/Only a teacher/);
    expect(gradebookCsv(replica.db, teacher.opener, replica.now).split('\r\n')[1]).toMatch(/^Ana,16,/);
  });

  it('refuses a score on an ungraded assignment and above the points possible', () => {
    const { replica, teacher, students } = classWith(['Ana']);
    const ana = students[0]!;
    expectApplied(replica.run(teacher, assignment('lab-0001', { pointsPossible: 10 })));
    expectApplied(replica.run(teacher, assignment('talk-0001', { pointsPossible: null })));
    const grade = (assignmentId: string, score: number) => ({ type: 'grade' as const, assignmentId, studentId: ana.id, baseVersion: 0, score, feedback: '' });
    expect(replica.run(teacher, grade('lab-0001', 11))).toMatchObject({ code: 'NOT_ALLOWED', reason: expect.stringMatching(/at most 10/) });
    expect(replica.run(teacher, grade('talk-0001', 1))).toMatchObject({ code: 'NOT_ALLOWED', reason: expect.stringMatching(/ungraded/) });
  });

  it('quotes spreadsheet formulas in the CSV export', () => {
    const { replica, teacher } = classWith(['=HYPERLINK("x")']);
    expect(gradebookCsv(replica.db, teacher.opener, replica.now)).toContain(`"'=HYPERLINK(""x"")"`);
  });
});

describe('determinism', () => {
  it('gives identical tables on two laptops that apply the same log, refusals and sealed items included', () => {
    const teacher = user('T');
    const [ana, ben] = [user('Ana'), user('Ben')];
    const steps: [typeof teacher, ClassroomCommand][] = [
      [teacher, { type: 'createClass', name: 'Physics', subject: '', displayName: 'T', laptopId: 'laptop-t', joinCode: TEST_JOIN_CODE }],
      [ana, { type: 'joinClass', displayName: 'Ana', laptopId: 'laptop-a' }],
      [ben, { type: 'joinClass', displayName: 'Ben', laptopId: 'laptop-b' }],
      [teacher, assignment('lab-0001')],
      [ana, { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 0, text: 'Period: 1.4 s', files: [] }],
      [ana, { type: 'turnIn', assignmentId: 'lab-0001' }],
      [ben, assignment('lab-0002')],
      [teacher, { type: 'grade', assignmentId: 'lab-0001', studentId: ana.id, baseVersion: 0, score: 19, feedback: 'x' }],
      [ana, { type: 'comment', commentId: 'comment-0001', assignmentId: 'lab-0001', studentId: ana.id, text: 'Thanks' }],
      [teacher, { type: 'returnGrade', assignmentId: 'lab-0001', studentId: ana.id }],
    ];
    // Each command sealed on its author's laptop (a copy that applied the log so far).
    const origin = new Replica();
    const log = steps.map(([author, command], i) => {
      const signed = origin.seal(author, command);
      origin.apply(signed, START + i * 1000);
      return signed;
    });
    const [first, second] = [new Replica(), new Replica()];
    log.forEach((signed, i) => {
      first.apply(signed, START + i * 1000);
      second.apply(signed, START + i * 1000);
    });
    expect(first.digest()).toBe(second.digest());
    expect(second.digest()).toBe(origin.digest());
    expect(rejectionsFor(second.db, ben.id)).toEqual([expect.objectContaining({ code: 'NOT_ALLOWED' })]);
    expect(submission(second.db, ana.opener, 'lab-0001', ana.id, START + 20_000)).toMatchObject({
      text: 'Period: 1.4 s',
      grade: { score: 19, feedback: 'x' },
      comments: [expect.objectContaining({ text: 'Thanks' })],
    });
  });

  it('never moves the class clock back, whatever time a command was committed at', () => {
    const { replica, teacher, students } = classWith(['Ana']);
    expectApplied(replica.run(teacher, assignment('lab-0001', { dueAt: START + 2 * HOUR })));
    expectApplied(replica.run(students[0]!, { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 0, text: 'a', files: [] }, { at: START + 5 * HOUR }));
    // A leader with a slow clock commits the turn-in "earlier": it still counts as after 5 h.
    expectApplied(replica.run(students[0]!, { type: 'turnIn', assignmentId: 'lab-0001' }, { at: START + HOUR }));
    expect(submission(replica.db, teacher.opener, 'lab-0001', students[0]!.id, replica.now)).toMatchObject({ status: 'late', turnedInAt: START + 5 * HOUR });
  });
});
