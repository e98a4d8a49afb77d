// The classroom: signed commands applied deterministically on every laptop, and the views each
// member may read. The peer plugs it into its storage as the class's state machine.
export { applyClassroomCommand } from './apply';
import { migrate001Classroom } from './migrations/001-classroom';
import { migrate002JoinCode } from './migrations/002-join-code';
export { signCommand, verifyCommand, userIdOf } from './signing';
export { assignments, currentJoinCode, gradebook, members, rejectionsFor, submission } from './queries';
export { gradebookCsv } from './gradebook-csv';
export { Rejection } from './rejection';
export { currentMember } from './context';

/** The classroom's schema migrations, in order (each its own file, with its test). */
export const CLASSROOM_MIGRATIONS = [migrate001Classroom, migrate002JoinCode] as const;

/** The tables holding the classroom's state: snapshotted, digested, replicated. */
export const CLASSROOM_TABLES = [
  'class_info',
  'members',
  'member_laptops',
  'assignments',
  'extensions',
  'submissions',
  'attempts',
  'grades',
  'comments',
  'seen_commands',
  'rejections',
] as const;
