// Giving a member the keys of items sealed before they could read them: a teacher's laptop that
// can open the items wraps each one's content key for them, in batches. For a new teacher, any
// item; for a student (re-admitted with a new box key), only items they may read: their own work
// and comments, and grades once returned (a draft grade stays the teachers'). Only teachers may
// send keys, and only to current members; keys already held stay as they are.
import type Database from 'better-sqlite3';
import type { LogCommand } from '../../../shared/classroom/commands';
import { currentMember, requireTeacher, type Handler } from '../context';
import { refuse } from '../rejection';
import { addItemKey } from '../sealing/item-rules';
import { statement } from '../statements';

export const shareKeys: Handler<Extract<LogCommand, { type: 'shareKeys' }>> = (context, command) => {
  requireTeacher(context);
  const { db } = context;
  const receiver = currentMember(db, command.userId);
  if (!receiver || receiver.box_key === null) refuse('NOT_ALLOWED', 'Keys can only be given to a current member of the class.');
  const exists = statement(db, 'SELECT 1 FROM sealed_items WHERE item_id = ?');
  for (const { itemId } of command.keys) if (!exists.get(itemId)) refuse('NOT_FOUND', 'One of these items is not in the class.');
  if (receiver.role === 'student') {
    for (const { itemId } of command.keys) if (!studentMayRead(db, receiver.user_id, itemId)) refuse('NOT_ALLOWED', 'A student can only be given the keys of their own work, comments and returned grades.');
  }
  for (const { itemId, key } of command.keys) addItemKey(db, itemId, command.userId, key);
};

/** Whether `studentId` may read the item: it is about them, and not a grade still in draft. */
function studentMayRead(db: Database.Database, studentId: string, itemId: string): boolean {
  return (
    statement(
      db,
      `SELECT 1 FROM sealed_items i WHERE i.item_id = @item AND i.student_id = @student
         AND (i.kind <> 'grade' OR EXISTS (SELECT 1 FROM grades g WHERE g.student_id = @student AND g.returned_item_id = @item AND g.returned_at IS NOT NULL))`,
    ).get({ item: itemId, student: studentId }) !== undefined
  );
}
