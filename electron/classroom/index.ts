// The classroom: signed commands applied deterministically on every laptop, and the views each
// member may read. The peer plugs it into its storage as the class's state machine.
export { applyClassroomCommand } from './apply';
export { migrate001Classroom } from './migrations/001-classroom';
export { signCommand, verifyCommand, userIdOf } from './signing';
export { assignments, gradebook, members, rejectionsFor, submission } from './queries';
export { gradebookCsv } from './gradebook-csv';
export { Rejection } from './rejection';
export { currentMember } from './context';

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
