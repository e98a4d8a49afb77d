// What a teacher or student reads when a class stopped on their laptop: why, what to do, and
// that the class's work is safe.
import { NeedsNewerQuorumError } from '../storage';

/** The sentence for what stopped a class's group (RaftGroup.stoppedBy), or null while it runs. */
export function stoppedSentence(failure: unknown): string | null {
  if (failure === null) return null;
  if (failure instanceof NeedsNewerQuorumError) {
    return 'This laptop’s Quorum is older than the one the class now uses, so it stopped following the class. Update Quorum on this laptop and it carries on where it stopped; nothing is lost, and changes made here meanwhile wait to be saved.';
  }
  const detail = failure instanceof Error ? failure.message : String(failure);
  return `This laptop stopped following the class because it could not update its copy (${detail.slice(0, 200)}). Restart Quorum; if it happens again, check that the disk has free space. The class’s work is kept by its other laptops.`;
}
