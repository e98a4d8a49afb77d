// Exactly-once application of client writes. Each replica remembers, per client, the result of
// every sequence number the client may still ask about; a retried write (same client id and
// sequence, after a leader change or a lost answer) returns the remembered result instead of
// being applied again. These tables are state-machine tables: snapshotted, digested, replicated.
import type Database from 'better-sqlite3';
import type { Entry } from '../../raft';
import type { Migration } from '../storage';
import { decodeEnvelope } from './envelope';
import { unstampWrite } from './leader-stamp';

/** Creates the session tables; part of any state machine that takes client writes. */
export const migrateSessions: Migration = (db) => {
  db.exec(`
    CREATE TABLE client_sessions (
      client_id TEXT PRIMARY KEY,
      acked_below INTEGER NOT NULL
    );
    CREATE TABLE client_results (
      client_id TEXT NOT NULL,
      seq INTEGER NOT NULL,
      result TEXT NOT NULL,
      PRIMARY KEY (client_id, seq)
    );
  `);
};

export const SESSION_TABLES = ['client_sessions', 'client_results'] as const;

/** What a client write did: the inner result, or that it was a retry of one already applied. */
export type SessionResult<Inner> =
  | { status: 'applied'; clientId: string; seq: number; result: Inner }
  | { status: 'duplicate'; clientId: string; seq: number; result: Inner | null }
  | { status: 'rejected'; reason: string }
  | { status: 'none' };

interface SessionStatements {
  session: Database.Statement<[clientId: string], number>;
  stored: Database.Statement<[clientId: string, seq: number], string>;
  remember: Database.Statement<[clientId: string, seq: number, result: string]>;
  advance: Database.Statement<[clientId: string, floor: number]>;
  forget: Database.Statement<[clientId: string, floor: number]>;
}

/** Statements per connection: prepared on first use, dropped with the connection. */
const statements = new WeakMap<Database.Database, SessionStatements>();

function statementsFor(db: Database.Database): SessionStatements {
  let found = statements.get(db);
  if (!found) {
    found = {
      session: db.prepare<[string], number>('SELECT acked_below FROM client_sessions WHERE client_id = ?').pluck(),
      stored: db.prepare<[string, number], string>('SELECT result FROM client_results WHERE client_id = ? AND seq = ?').pluck(),
      remember: db.prepare('INSERT INTO client_results (client_id, seq, result) VALUES (?, ?, ?)'),
      advance: db.prepare(
        'INSERT INTO client_sessions (client_id, acked_below) VALUES (?, ?) ON CONFLICT (client_id) DO UPDATE SET acked_below = excluded.acked_below',
      ),
      forget: db.prepare('DELETE FROM client_results WHERE client_id = ? AND seq < ?'),
    };
    statements.set(db, found);
  }
  return found;
}

/**
 * Apply `entry` through `applyInner` unless its (client, seq) was applied before, with the time
 * the leader stamped on it (null when none). Results are stored as JSON, so `Inner` must be
 * JSON data.
 */
export function applyOnce<Inner>(
  db: Database.Database,
  entry: Entry,
  applyInner: (command: Uint8Array, proposedAt: number | null) => Inner,
): SessionResult<Inner> {
  if (entry.type !== 'normal' || entry.data.byteLength === 0) return { status: 'none' };
  const { envelope: data, proposedAt } = unstampWrite(entry.data);
  const envelope = decodeEnvelope(data);
  if (typeof envelope === 'string') return { status: 'rejected', reason: envelope };
  const { clientId, seq, ackedBelow } = envelope;
  const sql = statementsFor(db);
  const session = sql.session.get(clientId);
  if (session !== undefined && seq < session) return { status: 'duplicate', clientId, seq, result: null };
  const stored = sql.stored.get(clientId, seq);
  if (stored !== undefined) return { status: 'duplicate', clientId, seq, result: JSON.parse(stored) as Inner };

  const result = applyInner(envelope.command, proposedAt);
  sql.remember.run(clientId, seq, JSON.stringify(result));
  const floor = Math.max(session ?? 1, ackedBelow);
  sql.advance.run(clientId, floor);
  // Answers below the floor were delivered; nobody will ask again.
  if (session === undefined || floor > session) sql.forget.run(clientId, floor);
  return { status: 'applied', clientId, seq, result };
}
