// Giving a teacher the keys of items sealed before they could read them: a teacher's laptop that
// can open the items wraps each one's content key for the new teacher, in batches. Only teachers
// may send keys, and only to current teachers; keys already held stay as they are.
import type { LogCommand } from '../../../shared/classroom/commands';
import { currentMember, requireTeacher, type Handler } from '../context';
import { refuse } from '../rejection';
import { addItemKey } from '../sealing/item-rules';
import { statement } from '../statements';

export const shareKeys: Handler<Extract<LogCommand, { type: 'shareKeys' }>> = (context, command) => {
  requireTeacher(context);
  const { db } = context;
  const receiver = currentMember(db, command.userId);
  if (!receiver || receiver.role !== 'teacher' || receiver.box_key === null) refuse('NOT_ALLOWED', 'Keys can only be given to a current teacher of the class.');
  const exists = statement(db, 'SELECT 1 FROM sealed_items WHERE item_id = ?');
  for (const { itemId } of command.keys) if (!exists.get(itemId)) refuse('NOT_FOUND', 'One of these items is not in the class.');
  for (const { itemId, key } of command.keys) addItemKey(db, itemId, command.userId, key);
};
