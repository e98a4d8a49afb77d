// Which laptops keep a class's attachments for good. Copying every file to every laptop would
// fill a class of thirty laptops with thirty copies of every worksheet and every submission;
// a few copies, on the laptops that are both likely to be on and entitled to the file, suffice:
//
// - the class's voters: the laptops the autopilot chose to hold the class's quorum (3 or 5),
//   so a file survives as long as a copy of the class's log does, on the same laptops;
// - the teachers' laptops: a teacher reads every submission and every material, often away
//   from the classroom, with no other laptop around to fetch from;
// - the owner's laptops: the user who attached the file (the teacher of a material, the student
//   of a submission) keeps their own copy, and serves it first, right after attaching it.
//
// Every other laptop (an ordinary student's) fetches a file when its user opens it and may keep
// it as a cache, to be dropped whenever space is needed: the laptops above keep the copies
// that count.

export interface RetentionInput {
  /** This laptop. */
  laptopId: string;
  /** The class's voting laptops. */
  voters: Iterable<string>;
  /** The laptops of the class's teachers. */
  teacherLaptops: Iterable<string>;
  /** The laptops of the user who attached the file. */
  ownerLaptops: Iterable<string>;
}

/** True when this laptop should keep the blob for good rather than as a cache it may drop. */
export function keepsBlob(input: RetentionInput): boolean {
  return likelyHolders(input).includes(input.laptopId);
}

/**
 * The laptops expected to keep the blob, in the order to ask them for it: the owner's (sure to
 * have it once attached), the teachers', then the voters'; no laptop twice.
 */
export function likelyHolders(input: Omit<RetentionInput, 'laptopId'>): string[] {
  return [...new Set([...input.ownerLaptops, ...input.teacherLaptops, ...input.voters])];
}
