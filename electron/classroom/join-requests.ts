// "Approve each student": whether a class asks a teacher about each new laptop, and where each
// laptop that asked stands. Read by the rules (joinClass), by the laptops at the class's door
// (which give the way in only to a laptop let in) and by the leader before admitting a laptop.
import type Database from 'better-sqlite3';
import type { JoinRequestView } from '../../shared/classroom/views';
import { viewerOf } from './queries';
import { statement } from './statements';

/** Where a laptop stands with a class it wants to join. */
export type JoinStanding =
  /** Approval is off: the join code is enough. */
  | 'open'
  /** A laptop of a current member: in already, nothing to approve. */
  | 'member'
  /** A teacher let it in. */
  | 'approved'
  /** It asked; no teacher has answered yet. */
  | 'waiting'
  /** A teacher said no. */
  | 'refused'
  /** It has not asked yet. */
  | 'unknown';

interface JoinRequestRow {
  laptop_id: string;
  display_name: string;
  recorded_by: string;
  asked_at: number;
  state: 'waiting' | 'approved' | 'refused';
}

/** Whether the class asks a teacher about each new laptop. */
export function approvesJoins(db: Database.Database): boolean {
  return (statement(db, 'SELECT approve_joins FROM class_info WHERE id = 1').pluck().get() as number | undefined) === 1;
}

/** Where `laptopId` stands with the class (a removed member's laptop is the caller's to refuse first). */
export function joinStanding(db: Database.Database, laptopId: string): JoinStanding {
  if (!approvesJoins(db)) return 'open';
  const member = statement(
    db,
    'SELECT 1 FROM member_laptops l JOIN members m ON m.user_id = l.user_id WHERE l.laptop_id = ? AND m.removed_at IS NULL',
  ).get(laptopId);
  if (member) return 'member';
  const state = statement(db, 'SELECT state FROM join_requests WHERE laptop_id = ?').pluck().get(laptopId) as JoinRequestRow['state'] | undefined;
  return state ?? 'unknown';
}

/** Whether `laptopId` may come in now: approval is off, it is a member's, or a teacher let it in. */
export function mayComeIn(db: Database.Database, laptopId: string): boolean {
  const standing = joinStanding(db, laptopId);
  return standing === 'open' || standing === 'member' || standing === 'approved';
}

/** How many laptops wait for a teacher's answer. */
export function waitingCount(db: Database.Database): number {
  return statement(db, "SELECT count(*) FROM join_requests WHERE state = 'waiting'").pluck().get() as number;
}

/**
 * The laptops waiting for a teacher's answer, and those refused (a teacher may let them in after
 * all), oldest first: for teachers only (a student sees none).
 */
export function openJoinRequests(db: Database.Database, viewerId: string): JoinRequestView[] {
  if (viewerOf(db, viewerId).role !== 'teacher') return [];
  const rows = statement(
    db,
    `SELECT r.laptop_id, r.display_name, r.asked_at, r.state, coalesce(m.display_name, '') AS recorded_by_name FROM join_requests r
     LEFT JOIN members m ON m.user_id = r.recorded_by
     WHERE r.state = 'waiting' OR (r.state = 'refused' AND r.laptop_id NOT IN (SELECT laptop_id FROM member_laptops))
     ORDER BY r.asked_at, r.laptop_id`,
  ).all() as (Pick<JoinRequestRow, 'laptop_id' | 'display_name' | 'asked_at' | 'state'> & { recorded_by_name: string })[];
  return rows.map((r) => ({
    laptopId: r.laptop_id,
    displayName: r.display_name,
    askedAt: r.asked_at,
    recordedByName: r.recorded_by_name,
    refused: r.state === 'refused',
  }));
}
