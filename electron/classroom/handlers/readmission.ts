// Re-admitting a student who lost their laptop. They joined again from a new laptop, with the join
// code, as a new member with new keys; a teacher vouches that this new member is the student. The
// two become one: the student keeps their id, name, work and grades, and signs with the new key
// from now on; the lost key acts as nobody and the lost laptops leave the class as a removed
// member's do. Their box key becomes the new one (the only time a box key is replaced: a teacher
// vouched for it), and the copies of content keys wrapped for the lost one are dropped, so a
// teacher's laptop wraps them again for the new one (shareKeys). Checked alike on every replica.
import type Database from 'better-sqlite3';
import type { LogCommand } from '../../../shared/classroom/commands';
import { currentMember, requireTeacher, type Handler, type MemberRow } from '../context';
import { refuse } from '../rejection';
import { statement } from '../statements';
import { currentJoinCode } from '../queries';
import { keepClassSecret } from '../sealing/class-secrets';

export const readmitStudent: Handler<Extract<LogCommand, { type: 'readmitStudent' }>> = (context, command) => {
  const teacher = requireTeacher(context);
  const { db, now } = context;
  if (command.studentId === command.newMemberId) refuse('NOT_ALLOWED', 'Choose the new member and the student they were before: these are the same person.');
  const student = currentStudent(db, command.studentId, 'The student being re-admitted is not a current student of the class.');
  const newcomer = currentStudent(db, command.newMemberId, 'The new member is not a current student of the class.');
  if (newcomer.box_key === null) refuse('NOT_ALLOWED', `${newcomer.display_name}’s laptop has no key for locking work yet, so they cannot take over earlier work.`);
  // Nothing is merged: whatever the new member did on their own would have two owners.
  if (hasWorkOfTheirOwn(db, newcomer.user_id)) {
    refuse(
      'CONFLICT',
      `${newcomer.display_name} already has work, grades or comments of their own in this class, so they cannot become ${student.display_name}. Remove them, and re-admit the next new member who joins from that laptop.`,
    );
  }

  statement(
    db,
    'INSERT INTO readmissions (key_user_id, user_id, lost_public_key, lost_box_key, teacher_id, at) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(newcomer.user_id, student.user_id, student.public_key, student.box_key, teacher.user_id, now);
  // Keys the new member was vouched as before (re-admitted twice) now point at the student too.
  statement(db, 'UPDATE readmissions SET user_id = ? WHERE user_id = ?').run(student.user_id, newcomer.user_id);

  // The student's laptops are the lost ones, except one the new member uses too.
  statement(
    db,
    `INSERT OR IGNORE INTO lost_laptops (laptop_id, user_id, lost_at)
     SELECT laptop_id, user_id, ? FROM member_laptops WHERE user_id = ? AND laptop_id NOT IN (SELECT laptop_id FROM member_laptops WHERE user_id = ?)`,
  ).run(now, student.user_id, newcomer.user_id);
  statement(db, 'DELETE FROM member_laptops WHERE user_id = ?').run(student.user_id);
  statement(db, 'UPDATE member_laptops SET user_id = ? WHERE user_id = ?').run(student.user_id, newcomer.user_id);

  statement(db, 'UPDATE members SET public_key = ?, box_key = ? WHERE user_id = ?').run(newcomer.public_key, newcomer.box_key, student.user_id);
  // Only the lost box key opens these, and it may be in someone else's hands.
  statement(db, 'DELETE FROM item_keys WHERE user_id = ?').run(student.user_id);
  // What the new laptop was refused so far is the student's to read.
  statement(db, 'UPDATE OR IGNORE rejections SET author_id = ? WHERE author_id = ?').run(student.user_id, newcomer.user_id);
  statement(db, 'DELETE FROM rejections WHERE author_id = ?').run(newcomer.user_id);
  statement(db, 'DELETE FROM members WHERE user_id = ?').run(newcomer.user_id);
  // The lost laptop knew the class's secret and its join code: the class moves on to new ones.
  if (command.classSecret) keepClassSecret(context, command.classSecret, newcomer.user_id);
  if (command.joinCode !== undefined && currentJoinCode(db) !== null) statement(db, 'UPDATE class_info SET join_code = ? WHERE id = 1').run(command.joinCode);
};

function currentStudent(db: Database.Database, userId: string, reason: string): MemberRow {
  const member = currentMember(db, userId);
  if (!member || member.role !== 'student') refuse('NOT_FOUND', reason);
  return member;
}

/** Anything in the class by or about `userId` beyond having joined: work, grades, extensions, comments, sealed items. */
function hasWorkOfTheirOwn(db: Database.Database, userId: string): boolean {
  return (
    statement(
      db,
      `SELECT 1 FROM submissions WHERE student_id = @id UNION ALL SELECT 1 FROM attempts WHERE student_id = @id
       UNION ALL SELECT 1 FROM grades WHERE student_id = @id UNION ALL SELECT 1 FROM extensions WHERE student_id = @id
       UNION ALL SELECT 1 FROM comments WHERE student_id = @id OR author_id = @id
       UNION ALL SELECT 1 FROM sealed_items WHERE student_id = @id OR author_id = @id
       UNION ALL SELECT 1 FROM item_keys WHERE user_id = @id
       UNION ALL SELECT 1 FROM assignments WHERE created_by = @id LIMIT 1`,
    ).get({ id: userId }) !== undefined
  );
}
