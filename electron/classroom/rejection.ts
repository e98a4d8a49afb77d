// A command refused by the classroom's rules. Thrown inside a handler, caught by apply.ts, which
// rolls back anything the handler wrote and records the refusal for the author.
import type { RejectionCode } from '../../shared/classroom/commands';

export class Rejection extends Error {
  constructor(
    readonly code: RejectionCode,
    /** A sentence the author understands. */
    readonly reason: string,
    readonly currentVersion?: number,
  ) {
    super(reason);
    this.name = 'Rejection';
  }
}

export function refuse(code: RejectionCode, reason: string, currentVersion?: number): never {
  throw new Rejection(code, reason, currentVersion);
}
