// Re-admitting a student who lost their laptop, under the classroom's rules on every replica: the
// new member who joined from the new laptop becomes the student (one member, their id, name,
// work and grades), their new key acts as them, the lost key acts as nobody, the lost laptop is
// out of the class, and a teacher's laptop wraps the keys of the student's own items again for
// their new box key: drafts, returned grades and comments, never a grade still in draft.
import { describe, expect, it } from 'vitest';
import { BoxOpener, members, shareKeysBatches, signerOf, submission } from '../../electron/classroom';
import { UNREADABLE_TEXT } from '../../electron/classroom/opened';
import type { ClassroomCommand } from '../../shared/classroom/commands';
import { assignment, classWith, CLASS_ID, expectApplied, sign, user, type Replica, type User } from './support';

/** `person`'s new laptop as it acts in the class once re-admitted as `student`: the new key, under the student's id. */
function actingAs(person: User, student: User): User {
  return { ...person, id: student.id, opener: new BoxOpener(student.id, person.box) };
}

const readmit = (student: User, newcomer: User): ClassroomCommand => ({ type: 'readmitStudent', studentId: student.id, newMemberId: newcomer.id });

/**
 * A class where Ana saved and turned in a lab, got it graded and returned, has a comment from
 * the teacher and one of her own, and a second lab graded but not returned; then her laptop was
 * lost and she joined again from a new one ("Ana (new laptop)").
 */
function anaLostHerLaptop() {
  const { replica, teacher, students } = classWith(['Ana', 'Ben']);
  const [ana, ben] = students as [User, User];
  expectApplied(replica.run(teacher, assignment('lab-0001')));
  expectApplied(replica.run(teacher, assignment('lab-0002')));
  expectApplied(replica.run(ana, { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 0, text: 'Ana: the period was 1.42 s', files: [] }));
  expectApplied(replica.run(ana, { type: 'turnIn', assignmentId: 'lab-0001' }));
  expectApplied(replica.run(teacher, { type: 'grade', assignmentId: 'lab-0001', studentId: ana.id, baseVersion: 0, score: 17, feedback: 'Check your units' }));
  expectApplied(replica.run(teacher, { type: 'returnGrade', assignmentId: 'lab-0001', studentId: ana.id }));
  expectApplied(replica.run(teacher, { type: 'comment', commentId: 'comment-0001', assignmentId: 'lab-0001', studentId: ana.id, text: 'Nicely timed' }));
  expectApplied(replica.run(ana, { type: 'comment', commentId: 'comment-0002', assignmentId: 'lab-0001', studentId: ana.id, text: 'Thank you!' }));
  expectApplied(replica.run(ana, { type: 'saveDraft', assignmentId: 'lab-0002', baseVersion: 0, text: 'Ana: second lab', files: [] }));
  expectApplied(replica.run(teacher, { type: 'grade', assignmentId: 'lab-0002', studentId: ana.id, baseVersion: 0, score: 9, feedback: 'Draft: not yet returned' }));
  const newAna = user('Ana (new laptop)');
  expectApplied(replica.run(newAna, { type: 'joinClass', displayName: newAna.name, laptopId: 'laptop-ana-new' }));
  return { replica, teacher, ana, ben, newAna };
}

/** Apply every shareKeys batch the teacher's laptop would send now; how many keys they carried. */
function shareWaitingKeys(replica: Replica, teacher: User): number {
  let keys = 0;
  for (const batch of shareKeysBatches(replica.db, CLASS_ID, teacher.opener)) {
    expectApplied(replica.apply(sign(teacher, batch)));
    keys += batch.keys.length;
  }
  return keys;
}

describe('re-admitting a student who lost their laptop', () => {
  it('makes the new member the student: one member, with the new keys and laptop, the lost laptop out', () => {
    const { replica, teacher, ana, newAna } = anaLostHerLaptop();
    expectApplied(replica.run(teacher, readmit(ana, newAna)));

    expect(members(replica.db, teacher.id).map((m) => [m.userId, m.displayName, m.laptops])).toEqual([
      [teacher.id, 'Ms Rivera', ['laptop-t']],
      [ana.id, 'Ana', ['laptop-ana-new']],
      [expect.any(String), 'Ben', ['laptop-1']],
    ]);
    expect(replica.db.prepare('SELECT public_key, box_key FROM members WHERE user_id = ?').get(ana.id)).toEqual({
      public_key: Buffer.from(newAna.identity.publicKey).toString('base64url'),
      box_key: newAna.box.publicKey,
    });
    expect(replica.db.prepare('SELECT laptop_id, user_id FROM lost_laptops').all()).toEqual([{ laptop_id: 'laptop-0', user_id: ana.id }]);
    const newKey = Buffer.from(newAna.identity.publicKey).toString('base64url');
    const oldKey = Buffer.from(ana.identity.publicKey).toString('base64url');
    expect(signerOf(replica.db, newAna.id, newKey)).toEqual({ userId: ana.id, replaced: false });
    expect(signerOf(replica.db, ana.id, oldKey)).toEqual({ userId: ana.id, replaced: true });
  });

  it('lets the new key act as the student everywhere and refuses everything the lost key signs', () => {
    const { replica, teacher, ana, newAna } = anaLostHerLaptop();
    const joinedFromNewLaptop = replica.log.at(-1)!.signed;
    expectApplied(replica.run(teacher, readmit(ana, newAna)));
    const anaNow = actingAs(newAna, ana);

    // The new key: her own work, her own thread, as Ana.
    expectApplied(replica.run(anaNow, { type: 'saveDraft', assignmentId: 'lab-0002', baseVersion: 1, text: 'Ana, from her new laptop', files: [] }));
    expectApplied(replica.run(anaNow, { type: 'comment', commentId: 'comment-0003', assignmentId: 'lab-0001', studentId: ana.id, text: 'New laptop, same Ana' }));
    expect(replica.db.prepare("SELECT student_id FROM submissions WHERE assignment_id = 'lab-0002'").pluck().get()).toBe(ana.id);
    expect(replica.db.prepare("SELECT author_id FROM comments WHERE comment_id = 'comment-0003'").pluck().get()).toBe(ana.id);
    // Joining again from the new laptop changes nothing; the same signed joinClass again is a replay.
    expectApplied(replica.run(anaNow, { type: 'joinClass', displayName: 'Ana', laptopId: 'laptop-ana-new' }));
    expect(replica.apply(joinedFromNewLaptop)).toMatchObject({ status: 'rejected', code: 'REPLAYED' });

    // The lost key: nothing, not even joining again; each refusal is listed for Ana and her teacher to see.
    const lost: ClassroomCommand[] = [
      { type: 'unsubmit', assignmentId: 'lab-0001' },
      { type: 'comment', commentId: 'comment-0004', assignmentId: 'lab-0001', studentId: ana.id, text: 'Whoever found this laptop' },
      { type: 'joinClass', displayName: 'Ana', laptopId: 'laptop-0' },
    ];
    for (const command of lost) {
      // Sealed and signed as the lost laptop would, from its copy of the class.
      expect(replica.apply(replica.seal(ana, command))).toMatchObject({
        status: 'rejected',
        code: 'NOT_A_MEMBER',
        reason: expect.stringMatching(/key of a laptop its owner lost/),
      });
    }
    expect(replica.db.prepare('SELECT count(*) FROM member_laptops WHERE laptop_id = ?').pluck().get('laptop-0')).toBe(0);
    expect(replica.db.prepare('SELECT count(*) FROM rejections WHERE author_id = ? AND code = ?').pluck().get(ana.id, 'NOT_A_MEMBER')).toBe(3);

    // Another laptop applying the same log reaches the same tables.
    expect(replica.replay().digest()).toBe(replica.digest());
  });

  it('lets a teacher wrap the student’s own items again for the new key, but not a grade still in draft', () => {
    const { replica, teacher, ana, ben, newAna } = anaLostHerLaptop();
    expectApplied(replica.run(teacher, readmit(ana, newAna)));
    const anaNow = actingAs(newAna, ana);
    // The copies for the lost key are gone; the new key opens nothing yet.
    expect(replica.db.prepare('SELECT count(*) FROM item_keys WHERE user_id = ?').pluck().get(ana.id)).toBe(0);
    expect(submission(replica.db, anaNow.opener, 'lab-0001', ana.id, replica.now).text).toBe(UNREADABLE_TEXT);

    // Her two drafts, her returned grade, two comments: five keys; the second lab's draft grade is not among them.
    const draftGrade = replica.db.prepare("SELECT item_id FROM grades WHERE assignment_id = 'lab-0002'").pluck().get() as string;
    const batches = shareKeysBatches(replica.db, CLASS_ID, teacher.opener);
    expect(batches.map((b) => b.userId)).toEqual([ana.id]);
    expect(batches[0]!.keys.map((k) => k.itemId)).not.toContain(draftGrade);
    expect(batches[0]!.keys).toHaveLength(5);
    // Only a teacher passes keys on, and never a draft grade to the student, nor a classmate's item.
    expect(replica.apply(sign(ben, batches[0]!))).toMatchObject({ code: 'NOT_ALLOWED' });
    const draftKey = { itemId: draftGrade, key: batches[0]!.keys[0]!.key };
    expect(replica.apply(sign(teacher, { ...batches[0]!, keys: [draftKey] }))).toMatchObject({ code: 'NOT_ALLOWED', reason: expect.stringMatching(/returned grades/) });
    expect(replica.apply(sign(teacher, { ...batches[0]!, userId: ben.id }))).toMatchObject({ code: 'NOT_ALLOWED' });
    expect(shareWaitingKeys(replica, teacher)).toBe(5);

    const lab1 = submission(replica.db, anaNow.opener, 'lab-0001', ana.id, replica.now);
    expect(lab1).toMatchObject({ text: 'Ana: the period was 1.42 s', grade: { score: 17, feedback: 'Check your units' } });
    expect(lab1.comments.map((c) => [c.authorName, c.text])).toEqual([
      ['Ms Rivera', 'Nicely timed'],
      ['Ana', 'Thank you!'],
    ]);
    const lab2 = submission(replica.db, anaNow.opener, 'lab-0002', ana.id, replica.now);
    expect(lab2).toMatchObject({ text: 'Ana: second lab', grade: null });
    expect(anaNow.opener.open(replica.db, draftGrade)).toBeNull();
    // The teacher still opens what the lost key wrapped for them.
    expect(submission(replica.db, teacher.opener, 'lab-0001', ana.id, replica.now)).toMatchObject({ text: 'Ana: the period was 1.42 s', comments: [{}, { text: 'Thank you!' }] });
    expect(shareKeysBatches(replica.db, CLASS_ID, teacher.opener)).toEqual([]);
    // Returning the second lab wraps it for the new key.
    expectApplied(replica.run(teacher, { type: 'returnGrade', assignmentId: 'lab-0002', studentId: ana.id }));
    expect(submission(replica.db, anaNow.opener, 'lab-0002', ana.id, replica.now).grade).toMatchObject({ score: 9 });
    expect(replica.replay().digest()).toBe(replica.digest());
  });

  it('refuses, on every replica alike, a re-admission that is not a teacher’s or not between two current students', () => {
    const { replica, teacher, ana, ben, newAna } = anaLostHerLaptop();
    const coTeacher = user('Mr Okafor');
    expectApplied(replica.run(coTeacher, { type: 'joinClass', displayName: coTeacher.name, laptopId: 'laptop-c' }));
    expectApplied(replica.run(teacher, { type: 'addTeacher', userId: coTeacher.id }));
    const gone = user('Cleo');
    expectApplied(replica.run(gone, { type: 'joinClass', displayName: gone.name, laptopId: 'laptop-g' }));
    expectApplied(replica.run(teacher, { type: 'removeMember', userId: gone.id }));
    const busy = user('Dev');
    expectApplied(replica.run(busy, { type: 'joinClass', displayName: busy.name, laptopId: 'laptop-d' }));
    expectApplied(replica.run(busy, { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 0, text: 'Dev’s own work', files: [] }));
    const stranger = user('Someone');

    const refusals: [string, User, ClassroomCommand, string, RegExp][] = [
      ['asked by a student', ben, readmit(ana, newAna), 'NOT_ALLOWED', /Only a teacher/],
      ['the same person', teacher, readmit(ana, ana), 'NOT_ALLOWED', /same person/],
      ['the student is a teacher', teacher, readmit(coTeacher, newAna), 'NOT_FOUND', /not a current student/],
      ['the student was removed', teacher, readmit(gone, newAna), 'NOT_FOUND', /not a current student/],
      ['the new member is a teacher', teacher, readmit(ana, coTeacher), 'NOT_FOUND', /new member is not a current student/],
      ['the new member is not in the class', teacher, readmit(ana, stranger), 'NOT_FOUND', /new member is not a current student/],
      ['the new member was removed', teacher, readmit(ana, gone), 'NOT_FOUND', /new member is not a current student/],
      ['the new member has work of their own', teacher, readmit(ana, busy), 'CONFLICT', /Dev already has work/],
    ];
    for (const [what, author, command, code, reason] of refusals) {
      expect(replica.run(author, command), what).toMatchObject({ status: 'rejected', code, reason: expect.stringMatching(reason) });
    }
    // Nothing changed: Ana keeps her key and laptop, the new member is still their own.
    expect(signerOf(replica.db, ana.id, Buffer.from(ana.identity.publicKey).toString('base64url'))).toEqual({ userId: ana.id, replaced: false });
    expect(replica.db.prepare('SELECT count(*) FROM readmissions').pluck().get()).toBe(0);
    expect(replica.db.prepare('SELECT count(*) FROM members WHERE user_id = ?').pluck().get(newAna.id)).toBe(1);
    const other = replica.replay();
    expect(other.db.prepare('SELECT count(*) FROM rejections WHERE type = ?').pluck().get('readmitStudent')).toBe(refusals.length);
    expect(other.digest()).toBe(replica.digest());
  });

  it('lets only the latest key act when a student is re-admitted twice', () => {
    const { replica, teacher, ana, newAna } = anaLostHerLaptop();
    expectApplied(replica.run(teacher, readmit(ana, newAna)));
    const third = user('Ana (third laptop)');
    expectApplied(replica.run(third, { type: 'joinClass', displayName: third.name, laptopId: 'laptop-ana-3' }));
    expectApplied(replica.run(teacher, readmit(ana, third)));

    expect(replica.run(actingAs(newAna, ana), { type: 'unsubmit', assignmentId: 'lab-0001' })).toMatchObject({ code: 'NOT_A_MEMBER' });
    expect(replica.run(actingAs(third, ana), { type: 'unsubmit', assignmentId: 'lab-0001' })).toMatchObject({ code: 'CLOSED' });
    expect(replica.db.prepare('SELECT laptop_id FROM lost_laptops ORDER BY laptop_id').pluck().all()).toEqual(['laptop-0', 'laptop-ana-new']);
    expect(members(replica.db, teacher.id).find((m) => m.userId === ana.id)?.laptops).toEqual(['laptop-ana-3']);
    expect(replica.replay().digest()).toBe(replica.digest());
  });
});
