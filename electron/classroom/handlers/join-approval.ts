// "Approve each student": a teacher turns it on or off; a laptop of the class records who asks at
// its door; a teacher lets each laptop in or not.
import type { LogCommand } from '../../../shared/classroom/commands';
import { LIMITS } from '../../../shared/classroom/commands';
import { requireTeacher, type Handler } from '../context';
import { approvesJoins, joinStanding, waitingCount } from '../join-requests';
import { refuse } from '../rejection';
import { statement } from '../statements';

type Command<T extends LogCommand['type']> = Extract<LogCommand, { type: T }>;

export const setJoinApproval: Handler<Command<'setJoinApproval'>> = (context, command) => {
  requireTeacher(context);
  const { db } = context;
  statement(db, 'UPDATE class_info SET approve_joins = ? WHERE id = 1').run(command.approve ? 1 : 0);
  // Those still waiting need no answer any more: the code lets them in at their next knock.
  if (!command.approve) statement(db, "DELETE FROM join_requests WHERE state = 'waiting'").run();
};

export const requestToJoin: Handler<Command<'requestToJoin'>> = ({ db, authorId, now }, command) => {
  // The author is a current member (apply.ts): their laptop was the door. Nobody outside the class can fill the list.
  if (!approvesJoins(db)) refuse('NOT_ALLOWED', 'This class lets in anyone with its join code; there is nothing to ask.');
  const removed = statement(
    db,
    'SELECT 1 FROM member_laptops l JOIN members m ON m.user_id = l.user_id WHERE l.laptop_id = ? AND m.removed_at IS NOT NULL',
  ).get(command.laptopId);
  const standing = joinStanding(db, command.laptopId);
  if (standing === 'member') refuse('CONFLICT', 'That laptop is in the class already.');
  if (removed) refuse('NOT_ALLOWED', 'That laptop was removed from the class.');
  if (standing !== 'unknown') refuse('CONFLICT', 'That laptop has asked already.');
  if (waitingCount(db) >= LIMITS.waitingJoinRequests) {
    refuse('NOT_ALLOWED', `${LIMITS.waitingJoinRequests} people are already waiting for the teacher; ask again once the teacher has let them in.`);
  }
  statement(db, "INSERT INTO join_requests (laptop_id, display_name, recorded_by, asked_at, state) VALUES (?, ?, ?, ?, 'waiting')").run(
    command.laptopId,
    command.displayName,
    authorId,
    now,
  );
};

export const answerJoinRequest: Handler<Command<'answerJoinRequest'>> = (context, command) => {
  const teacher = requireTeacher(context);
  const { db, now } = context;
  const asked = statement(db, 'SELECT state FROM join_requests WHERE laptop_id = ?').pluck().get(command.laptopId) as string | undefined;
  if (asked === undefined) refuse('NOT_FOUND', 'That laptop has not asked to join.');
  if (joinStanding(db, command.laptopId) === 'member') refuse('CONFLICT', 'That laptop is in the class already; to take it out, remove its student.');
  // A teacher may change their mind: a laptop refused may be let in later, and the other way round until it has joined.
  statement(db, 'UPDATE join_requests SET state = ?, answered_by = ?, answered_at = ? WHERE laptop_id = ?').run(
    command.approve ? 'approved' : 'refused',
    teacher.user_id,
    now,
    command.laptopId,
  );
};
