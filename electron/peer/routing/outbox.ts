// Writes made on this laptop that the class has not applied yet, kept durably in the class
// file (but outside the replicated tables), so they survive restarts and are delivered when
// the class is reachable again. Each write gets its sequence number here, once: a retry
// reuses it, which is what makes delivery exactly-once.
import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { componentVersion, runMigrations, setComponentVersion } from '../storage/migrate';

const COMPONENT = 'outbox';

const migrations = [
  (db: Database.Database) => {
    db.exec(`
      CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY,
        command BLOB NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE outbox_client (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        client_id TEXT NOT NULL,
        next_seq INTEGER NOT NULL
      );
    `);
  },
];

export interface OutboxItem {
  seq: number;
  command: Uint8Array;
  createdAt: number;
}

export class Outbox {
  readonly clientId: string;

  constructor(private readonly db: Database.Database) {
    runMigrations(db, migrations, componentVersion(db, COMPONENT), (version) => setComponentVersion(db, COMPONENT, version));
    const row = db.prepare('SELECT client_id FROM outbox_client WHERE id = 1').pluck().get() as string | undefined;
    if (row) {
      this.clientId = row;
    } else {
      // One client id per class file: a fresh id for a fresh file, never reused elsewhere.
      this.clientId = randomUUID();
      db.prepare('INSERT INTO outbox_client (id, client_id, next_seq) VALUES (1, ?, 1)').run(this.clientId);
    }
  }

  /** Durably record a new write and give it the next sequence number. */
  add(command: Uint8Array, now = Date.now()): OutboxItem {
    return this.db.transaction(() => {
      const seq = this.db.prepare('SELECT next_seq FROM outbox_client WHERE id = 1').pluck().get() as number;
      this.db.prepare('UPDATE outbox_client SET next_seq = ? WHERE id = 1').run(seq + 1);
      this.db.prepare('INSERT INTO outbox (seq, command, created_at) VALUES (?, ?, ?)').run(seq, command, now);
      return { seq, command, createdAt: now };
    })();
  }

  /** The class applied it: forget it. */
  remove(seq: number): void {
    this.db.prepare('DELETE FROM outbox WHERE seq = ?').run(seq);
  }

  /** Waiting writes, oldest first. */
  pending(): OutboxItem[] {
    const rows = this.db.prepare('SELECT seq, command, created_at FROM outbox ORDER BY seq').all() as {
      seq: number;
      command: Buffer;
      created_at: number;
    }[];
    return rows.map((row) => ({ seq: row.seq, command: new Uint8Array(row.command), createdAt: row.created_at }));
  }

  size(): number {
    return this.db.prepare('SELECT count(*) FROM outbox').pluck().get() as number;
  }

  /** The lowest sequence number still waiting (or the next one): everything below was answered. */
  lowestUnanswered(): number {
    const lowest = this.db.prepare('SELECT min(seq) FROM outbox').pluck().get() as number | null;
    return lowest ?? (this.db.prepare('SELECT next_seq FROM outbox_client WHERE id = 1').pluck().get() as number);
  }
}
