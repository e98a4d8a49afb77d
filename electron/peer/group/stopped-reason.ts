// Why a class stopped on this laptop, as the status carries it: a code the UI may branch on, and
// a sentence a teacher or student reads (why, what to do, and that the class's work is safe).
import type { ClassStopped } from '../../../shared/api';
import { NeedsNewerQuorumError } from '../storage';

/** What stopped a class's group (RaftGroup.stoppedBy) as the status says it, or null while it runs. */
export function stoppedReason(failure: unknown): ClassStopped | null {
  if (failure === null) return null;
  if (failure instanceof NeedsNewerQuorumError) {
    return {
      code: 'NEEDS_NEWER_QUORUM',
      message:
        'This laptop’s Quorum is older than the one the class now uses, so it stopped following the class. Update Quorum on this laptop and it carries on where it stopped; nothing is lost, and changes made here meanwhile wait to be saved.',
    };
  }
  const detail = failure instanceof Error ? failure.message : String(failure);
  return {
    code: 'COPY_NOT_UPDATED',
    message: `This laptop stopped following the class because it could not update its copy (${detail.slice(0, 200)}). Restart Quorum; if it happens again, check that the disk has free space. The class’s work is kept by its other laptops.`,
  };
}
