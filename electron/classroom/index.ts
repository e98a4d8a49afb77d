// The classroom: signed commands applied deterministically on every laptop, and the views each
// member may read. The peer plugs it into its storage as the class's state machine.
export { applyClassroomCommand } from './apply';
import { migrate001Classroom } from './migrations/001-classroom';
import { migrate002JoinCode } from './migrations/002-join-code';
import { migrate003SealedItems } from './migrations/003-sealed-items';
import { migrate004ClassSecrets } from './migrations/004-class-secrets';
import { migrate005JoinApproval } from './migrations/005-join-approval';
import { migrate006Readmissions } from './migrations/006-readmissions';
import { migrate007ClassRules } from './migrations/007-class-rules';
export { signCommand, verifyCommand, userIdOf } from './signing';
export { assignments, currentJoinCode, gradebook, members, rejectionsFor, submission } from './queries';
export { gradebookCsv } from './gradebook-csv';
export { approvesJoins, joinStanding, mayComeIn, waitingCount, openJoinRequests, type JoinStanding } from './join-requests';
export { Rejection } from './rejection';
export { currentMember } from './context';
export { signerOf, type Signer } from './signers';
export { statement } from './statements';
export { classRules, laptopsBehindOn, noteableRules } from './class-rules';
export { boxKeyPairFromPkcs8, boxKeyPkcs8, generateBoxKeyPair, type BoxKeyPair } from './sealing/box';
export { BoxOpener, NO_KEYS, type ItemOpener } from './sealing/opener';
export { sealCommand, SealingError, itemsToShare, shareKeysBatches } from './sealing/seal-command';
export { CLASS_SECRET_BYTES, classSecretGeneration, openClassSecrets, type ClassSecret } from './sealing/class-secrets';

/** The classroom's schema migrations, in order (each its own file, with its test); a migration's version is its place here. */
export const CLASSROOM_MIGRATIONS = [
  migrate001Classroom,
  migrate002JoinCode,
  migrate003SealedItems,
  migrate004ClassSecrets,
  migrate005JoinApproval,
  migrate006Readmissions,
  migrate007ClassRules,
] as const;

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
  'sealed_items',
  'item_keys',
  'class_secrets',
  'class_secret_keys',
  'join_requests',
  'readmissions',
  'lost_laptops',
  'seen_commands',
  'rejections',
] as const;
