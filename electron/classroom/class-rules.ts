// The class's rules version on the class file: which rules it is applied by, which each laptop
// knows, and the gate every command passes first (shared/classroom/rules.ts says why).
import type Database from 'better-sqlite3';
import { NeedsNewerQuorumError } from '../peer/storage/errors';
import { statement } from './statements';

/** The rules the class is applied by; 1 before the class exists. */
export function classRules(db: Database.Database): number {
  return (statement(db, 'SELECT rules FROM class_info WHERE id = 1').pluck().get() as number | undefined) ?? 1;
}

/**
 * Stop, changing nothing, where the class needs rules newer than `knownRules` (what this build
 * applies): applying on by older rules would make this laptop's copy differ from the others'.
 */
export function requireKnownRules(needed: number, knownRules: number): void {
  if (needed > knownRules) throw new NeedsNewerQuorumError(`the class is applied by rules ${needed}, this Quorum knows rules up to ${knownRules}`);
}

/** Whether `laptopId`, a current member's laptop, has yet to tell the class that it knows `knownRules`. */
export function noteableRules(db: Database.Database, laptopId: string, knownRules: number): boolean {
  const noted = statement(
    db,
    'SELECT l.rules FROM member_laptops l JOIN members m ON m.user_id = l.user_id WHERE l.laptop_id = ? AND m.removed_at IS NULL',
  )
    .pluck()
    .get(laptopId) as number | undefined;
  return noted !== undefined && noted < knownRules;
}

/** The laptops of current members that have not said they know `rules`: while any remain, adopting them would stop those laptops. */
export function laptopsBehindOn(db: Database.Database, rules: number): string[] {
  return statement(
    db,
    'SELECT l.laptop_id FROM member_laptops l JOIN members m ON m.user_id = l.user_id WHERE m.removed_at IS NULL AND l.rules < ? ORDER BY l.laptop_id',
  )
    .pluck()
    .all(rules) as string[];
}
