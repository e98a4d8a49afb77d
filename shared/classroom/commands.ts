// The classroom's commands: what a teacher or a student can ask the class to do. Each is signed
// by its author and carried in the replicated log; every laptop checks it against these schemas
// and the rules in electron/classroom before applying it. Runs anywhere.
import { boundedText, finiteNumber, flag, list, literal, matching, nullable, object, oneOf, tagged, wholeNumber, type Infer, type Schema } from '../schema';
import { JOIN_CODE_PATTERN, JOIN_CODE_LENGTH } from '../join-code';

/** Limits that keep one command, and the class file, a sane size. */
export const LIMITS = {
  name: 120,
  title: 200,
  /** Markdown instructions. */
  instructions: 20_000,
  /** Online text of a submission. */
  submissionText: 100_000,
  feedback: 20_000,
  comment: 5_000,
  filesPerItem: 20,
  fileName: 255,
  /** Attachments travel outside the log; this is the size a file may declare. */
  fileBytes: 50 * 1024 * 1024,
  /**
   * The largest file a student may attach to their work: its sealed copy (64 KiB chunks, each
   * with a 16-byte tag; electron/classroom/sealing/file-cipher.ts) still fits in fileBytes.
   */
  attachmentBytes: 52_416_000,
  points: 100_000,
  /** Everyone an item is sealed for: its student and the class's teachers. */
  recipients: 64,
  /** Members a class's new secret is sealed for, everyone who stays: about 220 KB of wrapped keys at most. */
  secretReaders: 1000,
  /** Content keys one shareKeys command carries for a new teacher, or a re-admitted student. */
  sharedKeys: 500,
  /** Laptops waiting at once for a teacher to let them in (approve mode). */
  waitingJoinRequests: 50,
} as const;

/** Ids chosen by the author's laptop. */
const idText = matching(/^[A-Za-z0-9_-]{8,64}$/, 'an id of 8 to 64 letters, digits, - or _');
/** A point in time: milliseconds since 1970, within this millennium. */
const time = wholeNumber(0, 32_503_680_000_000);
const sha256 = matching(/^[0-9a-f]{64}$/, 'a SHA-256 in hex');
const joinCode = matching(JOIN_CODE_PATTERN, `a join code of ${JOIN_CODE_LENGTH} letters and digits`);

/** A file attached to an assignment or a submission: the log carries only this, the bytes travel apart. */
export const fileRef = object({
  sha256,
  name: boundedText(LIMITS.fileName),
  type: boundedText(100),
  size: wholeNumber(0, LIMITS.fileBytes),
});
export type FileRef = Infer<typeof fileRef>;

const files = list(fileRef, LIMITS.filesPerItem);
const assignmentFields = {
  title: boundedText(LIMITS.title),
  instructions: boundedText(LIMITS.instructions, { allowEmpty: true }),
  /** Null: an ungraded assignment. */
  pointsPossible: nullable(finiteNumber(0, LIMITS.points)),
  dueAt: nullable(time),
  /** After this, nothing is accepted. */
  cutOffAt: nullable(time),
  materials: files,
  published: flag,
};

/** The first command of a class: its creator becomes its first teacher. */
const createClassFields = {
  type: literal('createClass'),
  name: boundedText(LIMITS.name),
  subject: boundedText(LIMITS.name, { allowEmpty: true }),
  /** The teacher's own name, as the class will show it. */
  displayName: boundedText(LIMITS.name),
  laptopId: boundedText(64),
  /** The code students join with, made on the teacher's laptop. */
  joinCode,
};
const removeMemberFields = { type: literal('removeMember'), userId: boundedText(64) };
/**
 * A student who lost their laptop joined again from a new one as `newMemberId`: from now on
 * that member's key acts as `studentId` (their name, work and grades) and the lost key as nobody.
 */
const readmitStudentFields = { type: literal('readmitStudent'), studentId: boundedText(64), newMemberId: boundedText(64) };
const joinClassFields = { type: literal('joinClass'), displayName: boundedText(LIMITS.name), laptopId: boundedText(64) };

/** Commands with nothing to seal: the same as a person asks for them and as the log carries them. */
const sameInBothForms = {
  /** A new join code, or none: nobody new can join until a teacher makes one. */
  setJoinCode: object({ type: literal('setJoinCode'), joinCode: nullable(joinCode) }),
  addTeacher: object({ type: literal('addTeacher'), userId: boundedText(64) }),
  createAssignment: object({ type: literal('createAssignment'), assignmentId: idText, ...assignmentFields }),
  editAssignment: object({ type: literal('editAssignment'), assignmentId: idText, baseVersion: wholeNumber(1, 2 ** 31), ...assignmentFields }),
  grantExtension: object({ type: literal('grantExtension'), assignmentId: idText, studentId: boundedText(64), dueAt: nullable(time) }),
  turnIn: object({ type: literal('turnIn'), assignmentId: idText }),
  unsubmit: object({ type: literal('unsubmit'), assignmentId: idText }),
  excuse: object({ type: literal('excuse'), assignmentId: idText, studentId: boundedText(64), excused: flag }),
  /** Whether each new laptop needs a teacher's yes before it is given the way into the class. */
  setJoinApproval: object({ type: literal('setJoinApproval'), approve: flag }),
  /**
   * A laptop of the class records that a laptop at its door asks to join, while approval is on:
   * the laptop id its transport authenticated, and the name the asker gave.
   */
  requestToJoin: object({ type: literal('requestToJoin'), laptopId: boundedText(64), displayName: boundedText(LIMITS.name) }),
  /** A teacher lets a laptop that asked into the class, or not. */
  answerJoinRequest: object({ type: literal('answerJoinRequest'), laptopId: boundedText(64), approve: flag }),
};

/** What a person asks for, as the UI sends it: the peer seals the private parts before signing (see logCommand). */
export const classroomCommand = tagged('type', {
  ...sameInBothForms,
  createClass: object(createClassFields),
  removeMember: object(removeMemberFields),
  readmitStudent: object(readmitStudentFields),
  /** A laptop that came in with the join code registers its user as a student. */
  joinClass: object(joinClassFields),
  saveDraft: object({
    type: literal('saveDraft'),
    assignmentId: idText,
    /** 0 for the first draft. */
    baseVersion: wholeNumber(0, 2 ** 31),
    text: boundedText(LIMITS.submissionText, { allowEmpty: true }),
    files,
  }),
  grade: object({
    type: literal('grade'),
    assignmentId: idText,
    studentId: boundedText(64),
    baseVersion: wholeNumber(0, 2 ** 31),
    score: nullable(finiteNumber(0, LIMITS.points)),
    feedback: boundedText(LIMITS.feedback, { allowEmpty: true }),
  }),
  returnGrade: object({ type: literal('returnGrade'), assignmentId: idText, studentId: boundedText(64) }),
  comment: object({ type: literal('comment'), commentId: idText, assignmentId: idText, studentId: boundedText(64), text: boundedText(LIMITS.comment) }),
});
export type ClassroomCommand = Infer<typeof classroomCommand>;

/** base64url of exactly `bytes` bytes (no padding). */
const base64urlBytes = (bytes: number, what: string) => matching(new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((bytes * 4) / 3)}}$`), what);
/** base64url of at most `maxBytes` bytes. */
const base64urlUpTo = (maxBytes: number, what: string): Schema<string> => {
  const shape = /^[A-Za-z0-9_-]*$/;
  const maxChars = Math.ceil((maxBytes * 4) / 3);
  return {
    check: (value, path) =>
      typeof value === 'string' && value.length <= maxChars && shape.test(value) ? null : `${path} must be ${what} of at most ${maxBytes} bytes`,
  };
};
/** A user's X25519 public key ("box key"), raw, base64url: what items are sealed for. */
export const boxKey = base64urlBytes(32, 'an X25519 public key in base64url');
/**
 * A content key wrapped for one recipient: a version byte (2), the wrapping author's box key (32),
 * a salt (11), the AES-GCM tag (16) and the wrapped 32-byte key (electron/classroom/sealing/box.ts).
 */
export const wrappedKey = base64urlBytes(92, 'a wrapped content key in base64url');
const recipientKey = object({ userId: boundedText(64), key: wrappedKey });
/**
 * The sealed secret fields of one item (a draft's text, a grade, a comment): AES-256-GCM under a
 * random content key, with that key wrapped for each recipient. The item's id is the id of the
 * command that carries it; the associated data binds class, kind, assignment, student and id.
 */
const sealedItem = (maxPlainBytes: number, maxReaders: number = LIMITS.recipients) =>
  object({
    nonce: base64urlBytes(12, 'a 12-byte nonce in base64url'),
    /** Ciphertext with its 16-byte tag at the end. */
    data: base64urlUpTo(maxPlainBytes + 16, 'a ciphertext in base64url'),
    keys: list(recipientKey, maxReaders),
  });
/** The most bytes a sealed item's JSON may take: every character of its text escaped as \uXXXX. */
const sealedBytes = (maxChars: number) => maxChars * 6 + 1024;
/**
 * The most bytes one attached file's entry adds to a sealed draft: its name and type escaped as
 * \uXXXX, two hashes, its key and nonce, sizes and field names
 * (electron/classroom/sealing/attachments.ts).
 */
const sealedAttachmentBytes = (LIMITS.fileName + 100) * 6 + 512;
export type SealedItem = Infer<ReturnType<typeof sealedItem>>;

/**
 * A command as it is signed and carried in the replicated log. The same as what the UI sends,
 * except: createClass and joinClass carry the author's box key; a draft, a grade and a comment
 * carry their private parts sealed; returnGrade carries the draft's content key wrapped for the
 * student; and shareKeys gives a new teacher (or a re-admitted student) the keys of items made
 * before they could read them.
 * What the rules must see (who, which assignment, versions, whether a grade has a score, files)
 * stays in the clear and signed.
 */
export const logCommand = tagged('type', {
  ...sameInBothForms,
  /** The box key is absent only in classes made before items were sealed. */
  createClass: object(createClassFields, { boxKey }),
  joinClass: object(joinClassFields, { boxKey }),
  /**
   * The class's new secret, sealed for the members who stay (absent in classes from before
   * secrets were replaced, or when the teacher's laptop has no key to seal with), and a new join
   * code when joining is on: the one removed knew both.
   */
  removeMember: object(removeMemberFields, { classSecret: sealedItem(64, LIMITS.secretReaders), joinCode }),
  /** As removeMember: the lost laptop knew the class's secret and its join code. */
  readmitStudent: object(readmitStudentFields, { classSecret: sealedItem(64, LIMITS.secretReaders), joinCode }),
  saveDraft: object({
    type: literal('saveDraft'),
    assignmentId: idText,
    baseVersion: wholeNumber(0, 2 ** 31),
    /** Attached files as the rules see them: each sealed copy's hash and size, under a name that says nothing. */
    files,
    /** {text, files}: the text, and each attached file's key, name, type and size; for the student and the teachers. */
    sealed: sealedItem(sealedBytes(LIMITS.submissionText) + LIMITS.filesPerItem * sealedAttachmentBytes),
  }),
  grade: object({
    type: literal('grade'),
    assignmentId: idText,
    studentId: boundedText(64),
    baseVersion: wholeNumber(0, 2 ** 31),
    /** Whether the sealed grade has a score: an ungraded assignment takes none. */
    scored: flag,
    /** {score, feedback}, for the teachers only until it is returned. */
    sealed: sealedItem(sealedBytes(LIMITS.feedback)),
  }),
  returnGrade: object({
    type: literal('returnGrade'),
    assignmentId: idText,
    studentId: boundedText(64),
    /** The sealed draft being returned (a draft changed meanwhile is not returned by mistake); null when there is none. */
    itemId: nullable(idText),
    /** The draft's content key wrapped for the student; null when there is nothing sealed to return. */
    studentKey: nullable(wrappedKey),
  }),
  comment: object({
    type: literal('comment'),
    commentId: idText,
    assignmentId: idText,
    studentId: boundedText(64),
    /** {text}, for the student and the teachers. */
    sealed: sealedItem(sealedBytes(LIMITS.comment)),
  }),
  /**
   * A teacher gives another current teacher the content keys of items sealed before they could
   * read them, or a current student those of their own items (after a re-admission, for their new box key).
   */
  shareKeys: object({
    type: literal('shareKeys'),
    userId: boundedText(64),
    keys: list(object({ itemId: idText, key: wrappedKey }), LIMITS.sharedKeys),
  }),
  /** A member's laptop says which class rules its build of Quorum can apply (shared/classroom/rules.ts). */
  noteRules: object({ type: literal('noteRules'), laptopId: boundedText(64), rules: wholeNumber(1, 2 ** 31) }),
  /** A teacher's laptop moves the class onto newer rules, once every laptop of the class knows them. */
  adoptRules: object({ type: literal('adoptRules'), rules: wholeNumber(2, 2 ** 31) }),
});
export type LogCommand = Infer<typeof logCommand>;
export type LogCommandType = LogCommand['type'];
export type ClassroomCommandType = LogCommandType;

/**
 * A command as it travels in the log (see logCommand): who wrote it, when by their clock, and their Ed25519
 * signature over everything else (electron/classroom/signing.ts says exactly what is signed).
 */
export const signedCommand = object({
  version: literal('1'),
  classId: boundedText(64),
  /** The author's raw Ed25519 public key, base64url; the user id is derived from it. */
  publicKey: boundedText(64),
  /** Unique per author: the same command seen twice (a replay) is refused. */
  commandId: idText,
  /** The author's laptop clock when they acted (possibly offline): shown, never trusted for rules. */
  clientTime: time,
  command: logCommand,
  /** base64url Ed25519 signature. */
  signature: boundedText(100),
});
export type SignedCommand = Infer<typeof signedCommand>;

/** Why a command was refused; `code` is for programs, the message for people. */
export const rejectionCodes = oneOf(
  'MALFORMED',
  'BAD_SIGNATURE',
  'WRONG_CLASS',
  'REPLAYED',
  'NOT_A_MEMBER',
  'NOT_ALLOWED',
  'NOT_FOUND',
  'STALE',
  'CLOSED',
  'CONFLICT',
);
export type RejectionCode = Infer<typeof rejectionCodes>;

/** What applying a command did, on every laptop alike. JSON data: it is stored with the session. */
export type ClassroomResult =
  | { status: 'applied'; type: ClassroomCommandType; commandId: string; authorId: string; at: number }
  | {
      status: 'rejected';
      code: RejectionCode;
      /** A sentence for the author. */
      reason: string;
      commandId: string | null;
      authorId: string | null;
      /** For a stale edit: the version it must be based on now. */
      currentVersion?: number;
    };
