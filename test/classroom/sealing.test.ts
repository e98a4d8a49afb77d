// Sealed items under the classroom's rules: every replica checks that a draft, a grade or a
// comment is sealed for exactly the people entitled to read it, a ciphertext moved to another
// item opens for nobody, a tampered score never breaks a view, and a new teacher reads what was
// written before they came once a teacher has passed the keys on.
import { describe, expect, it } from 'vitest';
import { BoxOpener, generateBoxKeyPair, gradebook, shareKeysBatches, submission } from '../../electron/classroom';
import { PairwiseWrapper } from '../../electron/classroom/sealing/box';
import { sealItem, wrapKeyFor, type Reader } from '../../electron/classroom/sealing/items';
import { UNREADABLE_GRADE, UNREADABLE_TEXT } from '../../electron/classroom/opened';
import type { LogCommand } from '../../shared/classroom/commands';
import { assignment, CLASS_ID, classWith, expectApplied, sign, user, type User } from './support';

const reader = (u: User): Reader => ({ userId: u.id, boxKey: u.box.publicKey });
const commandId = (n: number) => `command-${String(n).padStart(4, '0')}`;

/** A class of a teacher and Ana and Ben, with a published 20-point lab. */
function labClass() {
  const { replica, teacher, students } = classWith(['Ana', 'Ben']);
  const [ana, ben] = students as [User, User];
  expectApplied(replica.run(teacher, assignment('lab-0001', { pointsPossible: 20 })));
  return { replica, teacher, ana, ben };
}

/** A saveDraft sealed for `readers` of the author's choosing, as a modified laptop could send it. */
function draftSealedFor(author: User, id: string, readers: Reader[], text = 'my answers'): LogCommand {
  const { sealed } = sealItem({ classId: CLASS_ID, kind: 'submission', assignmentId: 'lab-0001', studentId: author.id, itemId: id }, { text }, readers, author.opener.wrapper);
  return { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 0, files: [], sealed };
}

describe('who an item is sealed for', () => {
  it('refuses, on every replica alike, a draft sealed for a classmate, or without the teacher, or for the student twice', () => {
    const { replica, teacher, ana, ben } = labClass();
    const attempts: [string, Reader[]][] = [
      ['for a classmate as well', [reader(ana), reader(ben), reader(teacher)]],
      ['without the teacher', [reader(ana)]],
      ['for Ana twice', [reader(ana), reader(ana), reader(teacher)]],
      ['for Ben instead of Ana', [reader(ben), reader(teacher)]],
    ];
    const signed = attempts.map(([, readers], i) => sign(ana, draftSealedFor(ana, commandId(i), readers), { commandId: commandId(i) }));
    for (const [i, command] of signed.entries()) {
      expect(replica.apply(command), attempts[i]![0]).toMatchObject({ status: 'rejected', code: 'CONFLICT', reason: expect.stringMatching(/exactly the student and the class’s teachers/) });
    }
    // Exactly Ana and the teacher: applied.
    expectApplied(replica.apply(sign(ana, draftSealedFor(ana, commandId(9), [reader(teacher), reader(ana)]), { commandId: commandId(9) })));
    expect(replica.db.prepare('SELECT count(*) FROM sealed_items').pluck().get()).toBe(1);
    // Another laptop applying the same log refuses the same four and reaches the same tables.
    const other = replica.replay();
    expect(other.db.prepare("SELECT count(*) FROM rejections WHERE code = 'CONFLICT'").pluck().get()).toBe(4);
    expect(other.digest()).toBe(replica.digest());
  });

  it('keeps a draft grade sealed for the teachers only, and opens it to the student when it is returned', () => {
    const { replica, teacher, ana } = labClass();
    expectApplied(replica.run(ana, { type: 'turnIn', assignmentId: 'lab-0001' }));
    // A grade sealed for the student too is refused: a draft is the teachers' business.
    const { sealed } = sealItem(
      { classId: CLASS_ID, kind: 'grade', assignmentId: 'lab-0001', studentId: ana.id, itemId: commandId(1) },
      { score: 12, feedback: 'Units!' },
      [reader(teacher), reader(ana)],
      teacher.opener.wrapper,
    );
    const tooMany = sign(teacher, { type: 'grade', assignmentId: 'lab-0001', studentId: ana.id, baseVersion: 0, scored: true, sealed }, { commandId: commandId(1) });
    expect(replica.apply(tooMany)).toMatchObject({ code: 'CONFLICT', reason: expect.stringMatching(/exactly the class’s teachers/) });

    expectApplied(replica.run(teacher, { type: 'grade', assignmentId: 'lab-0001', studentId: ana.id, baseVersion: 0, score: 12, feedback: 'Units!' }));
    const draftItem = replica.db.prepare('SELECT item_id FROM grades').pluck().get() as string;
    expect(ana.opener.open(replica.db, draftItem)).toBeNull();
    expect(teacher.opener.open(replica.db, draftItem)).toEqual({ score: 12, feedback: 'Units!' });
    expectApplied(replica.run(teacher, { type: 'returnGrade', assignmentId: 'lab-0001', studentId: ana.id }));
    expect(ana.opener.open(replica.db, draftItem)).toEqual({ score: 12, feedback: 'Units!' });
    expect(submission(replica.db, ana.opener, 'lab-0001', ana.id, replica.now).grade).toMatchObject({ score: 12, feedback: 'Units!' });
  });

  it('refuses returning a grade without the student’s key, or a draft that changed since', () => {
    const { replica, teacher, ana } = labClass();
    expectApplied(replica.run(teacher, { type: 'grade', assignmentId: 'lab-0001', studentId: ana.id, baseVersion: 0, score: 12, feedback: '' }));
    const itemId = replica.db.prepare('SELECT item_id FROM grades').pluck().get() as string;
    const withoutKey = sign(teacher, { type: 'returnGrade', assignmentId: 'lab-0001', studentId: ana.id, itemId, studentKey: null });
    expect(replica.apply(withoutKey)).toMatchObject({ code: 'NOT_ALLOWED', reason: expect.stringMatching(/unlocked for the student/) });
    const returning = replica.seal(teacher, { type: 'returnGrade', assignmentId: 'lab-0001', studentId: ana.id });
    expectApplied(replica.run(teacher, { type: 'grade', assignmentId: 'lab-0001', studentId: ana.id, baseVersion: 1, score: 14, feedback: '' }));
    expect(replica.apply(returning)).toMatchObject({ code: 'STALE' });
  });

  it('seals new items only for current members: a removed teacher gets no key to them', () => {
    const { replica, teacher, ana } = labClass();
    const coTeacher = user('Mr Okafor');
    expectApplied(replica.run(coTeacher, { type: 'joinClass', displayName: coTeacher.name, laptopId: 'laptop-c' }));
    expectApplied(replica.run(teacher, { type: 'addTeacher', userId: coTeacher.id }));
    expectApplied(replica.run(ana, { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 0, text: 'first', files: [] }));
    expectApplied(replica.run(teacher, { type: 'removeMember', userId: coTeacher.id }));
    expectApplied(replica.run(ana, { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 1, text: 'second', files: [] }));
    const itemId = replica.db.prepare('SELECT item_id FROM submissions').pluck().get() as string;
    expect(replica.db.prepare('SELECT user_id FROM item_keys WHERE item_id = ? ORDER BY user_id').pluck().all(itemId)).toEqual([ana.id, teacher.id].sort());
    expect(coTeacher.opener.open(replica.db, itemId)).toBeNull();
    // The draft saved over is gone with its keys: the file does not grow with every save.
    expect(replica.db.prepare('SELECT count(*) FROM sealed_items').pluck().get()).toBe(1);
  });
});

describe('ciphertext that was moved or changed', () => {
  it('does not open a ciphertext copied into another item, for anyone', () => {
    const { replica, teacher, ana, ben } = labClass();
    expectApplied(replica.run(ana, { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 0, text: 'Ana’s own answers', files: [] }));
    const original = replica.db.prepare('SELECT * FROM sealed_items').get() as { item_id: string; nonce: string; data: string };
    const keys = replica.db.prepare('SELECT user_id, wrapped FROM item_keys WHERE item_id = ?').all(original.item_id) as { user_id: string; wrapped: string }[];
    // Ben passes Ana's ciphertext off as his own draft, her key for him and the teacher's kept.
    const copied = sign(ben, {
      type: 'saveDraft',
      assignmentId: 'lab-0001',
      baseVersion: 0,
      files: [],
      sealed: {
        nonce: original.nonce,
        data: original.data,
        keys: [
          { userId: ben.id, key: keys.find((k) => k.user_id === ana.id)!.wrapped },
          { userId: teacher.id, key: keys.find((k) => k.user_id === teacher.id)!.wrapped },
        ],
      },
    });
    expectApplied(replica.apply(copied));
    // Bound to Ben's item (another id, another student): it opens for nobody, and says so.
    expect(submission(replica.db, teacher.opener, 'lab-0001', ben.id, replica.now).text).toBe(UNREADABLE_TEXT);
    expect(submission(replica.db, ben.opener, 'lab-0001', ben.id, replica.now).text).toBe(UNREADABLE_TEXT);
    expect(submission(replica.db, teacher.opener, 'lab-0001', ana.id, replica.now).text).toBe('Ana’s own answers');
  });

  it('shows a grade whose ciphertext was changed in the class file as unreadable, and the rest of the gradebook as usual', () => {
    const { replica, teacher, ana, ben } = labClass();
    for (const [student, score] of [[ana, 11], [ben, 13]] as const) {
      expectApplied(replica.run(teacher, { type: 'grade', assignmentId: 'lab-0001', studentId: student.id, baseVersion: 0, score, feedback: 'ok' }));
    }
    const anasItem = replica.db.prepare('SELECT item_id FROM grades WHERE student_id = ?').pluck().get(ana.id) as string;
    const data = replica.db.prepare('SELECT data FROM sealed_items WHERE item_id = ?').pluck().get(anasItem) as string;
    const flipped = Buffer.from(data, 'base64url');
    flipped[0] ^= 1;
    replica.db.prepare('UPDATE sealed_items SET data = ? WHERE item_id = ?').run(flipped.toString('base64url'), anasItem);
    expect(submission(replica.db, teacher.opener, 'lab-0001', ana.id, replica.now).grade).toMatchObject({ score: null, feedback: UNREADABLE_GRADE });
    expect(gradebook(replica.db, teacher.opener, replica.now).rows.map((row) => row.cells[0]!.score)).toEqual([null, 13]);
  });

  it('shows an out-of-range score from a tampered laptop as invalid, never breaking a view', () => {
    const { replica, teacher, ana } = labClass();
    // The teacher's laptop skips its own range check and seals 25 points on a 20-point lab.
    const id = commandId(7);
    const { sealed } = sealItem({ classId: CLASS_ID, kind: 'grade', assignmentId: 'lab-0001', studentId: ana.id, itemId: id }, { score: 25, feedback: 'Wow' }, [reader(teacher)], teacher.opener.wrapper);
    expectApplied(replica.apply(sign(teacher, { type: 'grade', assignmentId: 'lab-0001', studentId: ana.id, baseVersion: 0, scored: true, sealed }, { commandId: id })));
    expectApplied(replica.run(teacher, { type: 'returnGrade', assignmentId: 'lab-0001', studentId: ana.id }));
    for (const viewer of [teacher, ana]) {
      expect(submission(replica.db, viewer.opener, 'lab-0001', ana.id, replica.now).grade).toMatchObject({
        score: null,
        feedback: expect.stringMatching(/^\[The score can be at most 20 points\. So this grade’s score is not shown\.\]\n\nWow$/),
      });
      expect(gradebook(replica.db, viewer.opener, replica.now).rows[0]!.cells[0]!.score).toBeNull();
    }
    // An honest laptop refuses it before sending.
    expect(replica.run(teacher, { type: 'grade', assignmentId: 'lab-0001', studentId: ana.id, baseVersion: 2, score: 25, feedback: '' })).toMatchObject({
      status: 'rejected',
      reason: 'The score can be at most 20 points.',
    });
  });
});

describe('opening a grade', () => {
  /** A graded lab, and the grade's item id. */
  function gradedLab() {
    const { replica, teacher, ana, ben } = labClass();
    expectApplied(replica.run(teacher, { type: 'grade', assignmentId: 'lab-0001', studentId: ana.id, baseVersion: 0, score: 15, feedback: 'Good' }));
    return { replica, teacher, ana, ben, itemId: replica.db.prepare('SELECT item_id FROM grades').pluck().get() as string };
  }
  const setTeacherKey = (replica: ReturnType<typeof labClass>['replica'], itemId: string, teacher: User, wrapped: string) =>
    replica.db.prepare('UPDATE item_keys SET wrapped = ? WHERE item_id = ? AND user_id = ?').run(wrapped, itemId, teacher.id);

  it('opens the same in the gradebook (all grades at once) as one at a time, cold and warm', () => {
    const { replica, teacher, ana, itemId } = gradedLab();
    const cold = new BoxOpener(teacher.id, teacher.box);
    expect(gradebook(replica.db, cold, replica.now).rows.find((row) => row.student.userId === ana.id)!.cells[0]!.score).toBe(15);
    expect(gradebook(replica.db, cold, replica.now).rows.find((row) => row.student.userId === ana.id)!.cells[0]!.score).toBe(15);
    expect(cold.open(replica.db, itemId)).toEqual({ score: 15, feedback: 'Good' });
  });

  it('does not open a key wrapped by a box key that is not registered in the class, though it was wrapped for the teacher', () => {
    const { replica, teacher, itemId } = gradedLab();
    const contentKey = teacher.opener.contentKey(replica.db, itemId)!;
    const stranger = new PairwiseWrapper(generateBoxKeyPair());
    setTeacherKey(replica, itemId, teacher, wrapKeyFor(contentKey, CLASS_ID, itemId, reader(teacher), stranger));
    const fresh = new BoxOpener(teacher.id, teacher.box);
    expect(fresh.open(replica.db, itemId)).toBeNull();
    expect(gradebook(replica.db, fresh, replica.now).rows[0]!.cells[0]!.score).toBeNull();
    expect(submission(replica.db, fresh, 'lab-0001', replica.db.prepare('SELECT student_id FROM grades').pluck().get() as string, replica.now).grade).toMatchObject({
      score: null,
      feedback: UNREADABLE_GRADE,
    });
  });

  it('opens a key wrapped by any registered member, and none wrapped for another item or moved from one, even when warm', () => {
    const { replica, teacher, ben, itemId } = gradedLab();
    const contentKey = teacher.opener.contentKey(replica.db, itemId)!;
    const warm = new BoxOpener(teacher.id, teacher.box);
    expect(gradebook(replica.db, warm, replica.now).rows[0]!.cells[0]!.score).toBe(15);
    // Ben is a member with a registered box key: a wrap of his opens (what rules a wrap in is who may send it).
    setTeacherKey(replica, itemId, teacher, wrapKeyFor(contentKey, CLASS_ID, itemId, reader(teacher), ben.opener.wrapper));
    expect(warm.open(replica.db, itemId)).toEqual({ score: 15, feedback: 'Good' });
    // The right key, wrapped for another item: refused, in the gradebook too, though the grade was opened before.
    setTeacherKey(replica, itemId, teacher, wrapKeyFor(contentKey, CLASS_ID, 'another-item', reader(teacher), teacher.opener.wrapper));
    expect(warm.open(replica.db, itemId)).toBeNull();
    expect(gradebook(replica.db, warm, replica.now).rows[0]!.cells[0]).toMatchObject({ score: null });
    // Wrapped for Ben instead: refused for the teacher.
    setTeacherKey(replica, itemId, teacher, wrapKeyFor(contentKey, CLASS_ID, itemId, reader(ben), teacher.opener.wrapper));
    expect(warm.open(replica.db, itemId)).toBeNull();
  });

  it('shows a grade whose ciphertext was changed as unreadable, even when it was opened before', () => {
    const { replica, teacher, itemId } = gradedLab();
    const warm = new BoxOpener(teacher.id, teacher.box);
    expect(gradebook(replica.db, warm, replica.now).rows[0]!.cells[0]!.score).toBe(15);
    const data = Buffer.from(replica.db.prepare('SELECT data FROM sealed_items WHERE item_id = ?').pluck().get(itemId) as string, 'base64url');
    data[0]! ^= 0x01;
    replica.db.prepare('UPDATE sealed_items SET data = ? WHERE item_id = ?').run(data.toString('base64url'), itemId);
    expect(gradebook(replica.db, warm, replica.now).rows[0]!.cells[0]!.score).toBeNull();
    expect(warm.open(replica.db, itemId)).toBeNull();
  });
});

describe('a teacher added to a class with work in it', () => {
  it('reads earlier drafts, grades and comments once a teacher who can read them passes the keys on', () => {
    const { replica, teacher, ana } = labClass();
    expectApplied(replica.run(ana, { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 0, text: 'Ana’s lab', files: [] }));
    expectApplied(replica.run(ana, { type: 'comment', commentId: 'comment-0001', assignmentId: 'lab-0001', studentId: ana.id, text: 'Is 3 trials enough?' }));
    expectApplied(replica.run(teacher, { type: 'grade', assignmentId: 'lab-0001', studentId: ana.id, baseVersion: 0, score: 17.25, feedback: 'Careful work' }));
    const coTeacher = user('Mr Okafor');
    expectApplied(replica.run(coTeacher, { type: 'joinClass', displayName: coTeacher.name, laptopId: 'laptop-c' }));
    expectApplied(replica.run(teacher, { type: 'addTeacher', userId: coTeacher.id }));
    const before = submission(replica.db, coTeacher.opener, 'lab-0001', ana.id, replica.now);
    expect(before).toMatchObject({ text: UNREADABLE_TEXT, grade: { score: null, feedback: UNREADABLE_GRADE }, comments: [{ text: UNREADABLE_TEXT }] });

    // Only a teacher may pass keys on, and never a draft grade to its student.
    const batches = shareKeysBatches(replica.db, CLASS_ID, teacher.opener);
    expect(batches).toEqual([expect.objectContaining({ type: 'shareKeys', userId: coTeacher.id, keys: expect.any(Array) })]);
    expect(batches[0]!.keys).toHaveLength(3);
    expect(replica.apply(sign(ana, batches[0]!))).toMatchObject({ code: 'NOT_ALLOWED' });
    expect(replica.apply(sign(teacher, { ...batches[0]!, userId: ana.id }))).toMatchObject({ code: 'NOT_ALLOWED' });
    expectApplied(replica.apply(sign(teacher, batches[0]!)));

    expect(submission(replica.db, coTeacher.opener, 'lab-0001', ana.id, replica.now)).toMatchObject({
      text: 'Ana’s lab',
      grade: { score: 17.25, feedback: 'Careful work' },
      comments: [{ text: 'Is 3 trials enough?' }],
    });
    expect(shareKeysBatches(replica.db, CLASS_ID, teacher.opener)).toEqual([]);
    // New items are sealed for the new teacher from the start.
    expectApplied(replica.run(ana, { type: 'comment', commentId: 'comment-0002', assignmentId: 'lab-0001', studentId: ana.id, text: 'Thanks!' }));
    expect(submission(replica.db, coTeacher.opener, 'lab-0001', ana.id, replica.now).comments.map((c) => c.text)).toEqual(['Is 3 trials enough?', 'Thanks!']);
  });
});
