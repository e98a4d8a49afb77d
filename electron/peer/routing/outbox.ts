// Writes made on this laptop that the class has not applied yet, kept in the class file (but
// outside the replicated tables) so they survive restarts and are delivered when the class is
// reachable again. Each write gets its sequence number here, once: a retry reuses it, which is
// what makes delivery exactly-once.
//
// Durability, and what it costs: sequence numbers are reserved on disk in blocks (one fsync per
// block), so a number that reached the class is never handed out again, even after a power cut.
// A write's row is stored without an fsync of its own (durability.ts); the caller is told
// "pending" only after `sync()`, and "applied" only after this laptop applied the write, whose
// log entry was fsynced after the row. Rows leave in the transaction that applies their write.
import type Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { relaxedTransaction } from '../storage/durability';
import { componentVersion, runMigrations, setComponentVersion } from '../storage/migrate';
import type { SessionResult } from './sessions';

const COMPONENT = 'outbox';
/** Sequence numbers reserved per fsync. */
const RESERVATION = 1024;

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

interface OutboxStatements {
  insert: Database.Statement<[seq: number, command: Uint8Array, createdAt: number]>;
  delete: Database.Statement<[seq: number]>;
  /** next_seq is the reservation's end: every number below it may have been handed out. */
  reserve: Database.Statement<[end: number]>;
}

export class Outbox {
  readonly clientId: string;
  /** The rows of the table, in sequence order (a Map keeps insertion order, and seqs only grow). */
  private readonly items = new Map<number, OutboxItem>();
  private readonly sql: OutboxStatements;
  private nextSeq: number;
  private reservedEnd: number;

  constructor(private readonly db: Database.Database) {
    runMigrations(db, migrations, componentVersion(db, COMPONENT), (version) => setComponentVersion(db, COMPONENT, version));
    const row = db.prepare('SELECT client_id, next_seq FROM outbox_client WHERE id = 1').get() as
      | { client_id: string; next_seq: number }
      | undefined;
    if (row) {
      this.clientId = row.client_id;
      // Whatever the last run reserved may have been used: start after all of it.
      this.nextSeq = row.next_seq;
    } else {
      // One client id per class file: a fresh id for a fresh file, never reused elsewhere.
      this.clientId = randomUUID();
      this.nextSeq = 1;
      db.prepare('INSERT INTO outbox_client (id, client_id, next_seq) VALUES (1, ?, 1)').run(this.clientId);
    }
    this.reservedEnd = this.nextSeq;
    this.sql = {
      insert: db.prepare('INSERT INTO outbox (seq, command, created_at) VALUES (?, ?, ?)'),
      delete: db.prepare('DELETE FROM outbox WHERE seq = ?'),
      reserve: db.prepare('UPDATE outbox_client SET next_seq = ? WHERE id = 1'),
    };
    const rows = db.prepare('SELECT seq, command, created_at FROM outbox ORDER BY seq').all() as {
      seq: number;
      command: Buffer;
      created_at: number;
    }[];
    for (const r of rows) this.items.set(r.seq, { seq: r.seq, command: new Uint8Array(r.command), createdAt: r.created_at });
  }

  /** Record a new write and give it the next sequence number (durable with the next fsync; see `sync`). */
  add(command: Uint8Array, now = Date.now()): OutboxItem {
    if (this.nextSeq >= this.reservedEnd) this.reserve(this.nextSeq + RESERVATION);
    const item = { seq: this.nextSeq, command, createdAt: now };
    relaxedTransaction(this.db, () => this.sql.insert.run(item.seq, command, now));
    this.nextSeq += 1;
    this.items.set(item.seq, item);
    return item;
  }

  /**
   * Make every row on disk now (one fsync), before telling someone their write is kept. Extends
   * the reservation by one: any change would do to get a commit, and this one harms nothing.
   */
  sync(): void {
    this.reserve(this.reservedEnd + 1);
  }

  /**
   * The class applied it: forget it. Meant to run inside the transaction that applied it;
   * outside one it commits without an fsync (a row that comes back is only delivered again,
   * and the class answers that as a duplicate).
   */
  remove(seq: number): void {
    if (!this.items.delete(seq)) return;
    if (this.db.inTransaction) this.sql.delete.run(seq);
    else relaxedTransaction(this.db, () => this.sql.delete.run(seq));
  }

  /**
   * Remove this laptop's writes among entries just applied (run inside the transaction that
   * applied them, as `RaftGroup`'s `applyAlongside`), so a row leaves exactly when its write counts.
   */
  forgetApplied(applied: readonly { result: SessionResult<unknown> }[]): void {
    for (const { result } of applied) {
      if ((result.status === 'applied' || result.status === 'duplicate') && result.clientId === this.clientId) this.remove(result.seq);
    }
  }

  has(seq: number): boolean {
    return this.items.has(seq);
  }

  /** Waiting writes, oldest first. */
  pending(): IterableIterator<OutboxItem> {
    return this.items.values();
  }

  size(): number {
    return this.items.size;
  }

  /** The lowest sequence number still waiting (or the next one): everything below was answered. */
  lowestUnanswered(): number {
    for (const seq of this.items.keys()) return seq;
    return this.nextSeq;
  }

  private reserve(end: number): void {
    this.db.transaction(() => this.sql.reserve.run(end))();
    this.reservedEnd = end;
  }
}
