// Who is in the class: its creation, students joining, teachers added, members removed.
import { LIMITS, type LogCommand } from '../../../shared/classroom/commands';
import { memberOf, requireTeacher, type Handler } from '../context';
import { joinStanding, mayComeIn, waitingCount } from '../join-requests';
import { refuse } from '../rejection';
import { statement } from '../statements';
import { currentJoinCode } from '../queries';
import { keepClassSecret } from '../sealing/class-secrets';

type Command<T extends LogCommand['type']> = Extract<LogCommand, { type: T }>;

export const createClass: Handler<Command<'createClass'>> = ({ db, signed, authorId, now }, command) => {
  if (statement(db, 'SELECT 1 FROM class_info').get()) refuse('CONFLICT', 'This class has already been created.');
  statement(db, 'INSERT INTO class_info (id, class_id, name, subject, created_at, clock, join_code) VALUES (1, ?, ?, ?, ?, ?, ?)').run(
    signed.classId,
    command.name,
    command.subject,
    now,
    now,
    command.joinCode,
  );
  addMember(db, authorId, signed.publicKey, command.boxKey ?? null, command.displayName, 'teacher', now);
  addLaptop(db, authorId, command.laptopId);
};

export const joinClass: Handler<Command<'joinClass'>> = ({ db, signed, authorId, author, now }, command) => {
  if (!statement(db, 'SELECT 1 FROM class_info').get()) refuse('NOT_FOUND', 'This class has not been created yet.');
  const existing = author ?? memberOf(db, authorId);
  if (existing?.removed_at != null) refuse('NOT_ALLOWED', 'You were removed from this class; ask the teacher to add you again.');
  if (!mayComeIn(db, command.laptopId)) {
    // Let in with the code before a teacher turned approval on, it registers after: it asks now,
    // as it would have at the door, and registers once a teacher lets it in.
    if (!existing && joinStanding(db, command.laptopId) === 'unknown' && waitingCount(db) < LIMITS.waitingJoinRequests) {
      statement(db, "INSERT INTO join_requests (laptop_id, display_name, recorded_by, asked_at, state) VALUES (?, ?, ?, ?, 'waiting')").run(
        command.laptopId,
        command.displayName,
        authorId,
        now,
      );
      return;
    }
    refuse('NOT_ALLOWED', 'Your teacher has not let this laptop into the class yet.');
  }
  // Joining again from another laptop (or after a lost answer) only adds the laptop.
  if (!existing) addMember(db, authorId, signed.publicKey, command.boxKey ?? null, command.displayName, 'student', now);
  // A member from before items were sealed gives their box key once; it is never replaced, so
  // nobody can make a classmate's next items sealed for a key of their own choosing.
  else if (existing.box_key === null && command.boxKey !== undefined) statement(db, 'UPDATE members SET box_key = ? WHERE user_id = ?').run(command.boxKey, authorId);
  addLaptop(db, authorId, command.laptopId);
};

export const setJoinCode: Handler<Command<'setJoinCode'>> = (context, command) => {
  requireTeacher(context);
  statement(context.db, 'UPDATE class_info SET join_code = ? WHERE id = 1').run(command.joinCode);
};

export const addTeacher: Handler<Command<'addTeacher'>> = (context, command) => {
  requireTeacher(context);
  const member = memberOf(context.db, command.userId);
  if (!member || member.removed_at !== null) refuse('NOT_FOUND', 'That person is not in the class.');
  statement(context.db, "UPDATE members SET role = 'teacher' WHERE user_id = ?").run(command.userId);
};

export const removeMember: Handler<Command<'removeMember'>> = (context, command) => {
  requireTeacher(context);
  const { db, now } = context;
  const member = memberOf(db, command.userId);
  if (!member || member.removed_at !== null) refuse('NOT_FOUND', 'That person is not in the class.');
  if (member.role === 'teacher') {
    const teachers = statement(db, "SELECT count(*) FROM members WHERE role = 'teacher' AND removed_at IS NULL").pluck().get() as number;
    if (teachers <= 1) refuse('NOT_ALLOWED', 'A class needs at least one teacher.');
  }
  statement(db, 'UPDATE members SET removed_at = ? WHERE user_id = ?').run(now, command.userId);
  // They knew the class's secret and its join code: the class moves on to new ones.
  if (command.classSecret) keepClassSecret(context, command.classSecret, command.userId);
  if (command.joinCode !== undefined && currentJoinCode(db) !== null) statement(db, 'UPDATE class_info SET join_code = ? WHERE id = 1').run(command.joinCode);
};

function addMember(
  db: import('better-sqlite3').Database,
  userId: string,
  publicKey: string,
  boxKey: string | null,
  name: string,
  role: 'teacher' | 'student',
  now: number,
): void {
  statement(db, 'INSERT INTO members (user_id, public_key, box_key, display_name, role, joined_at, removed_at) VALUES (?, ?, ?, ?, ?, ?, NULL)').run(
    userId,
    publicKey,
    boxKey,
    name,
    role,
    now,
  );
}

function addLaptop(db: import('better-sqlite3').Database, userId: string, laptopId: string): void {
  statement(db, 'INSERT OR IGNORE INTO member_laptops (user_id, laptop_id) VALUES (?, ?)').run(userId, laptopId);
}
