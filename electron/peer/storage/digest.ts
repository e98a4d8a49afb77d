// A fingerprint of the replicated state, to compare replicas: equal digests at the same applied
// index mean equal state tables. Values are encoded with their SQLite type so that 1, 1.0, '1'
// and x'31' all hash differently.
import { createHash, type Hash } from 'node:crypto';
import type Database from 'better-sqlite3';
import { columnNames, orderingColumns, quoteIdentifier } from './table-info';

const TAG = { null: 0, integer: 1, real: 2, text: 3, blob: 4 } as const;

/** SHA-256 (hex) of the applied index and the tables' rows, tables by name, rows by primary key. */
export function digestState(db: Database.Database, tables: readonly string[], appliedIndex: number): string {
  const hash = createHash('sha256');
  hash.update(`quorum-state-digest 1\napplied ${appliedIndex}\n`);
  for (const table of [...tables].sort()) {
    const columns = columnNames(db, table).map(quoteIdentifier);
    const order = orderingColumns(db, table).map(quoteIdentifier);
    hash.update(`table ${table} (${columns.join(',')})\n`);
    const rows = db
      .prepare(`SELECT ${columns.join(', ')} FROM ${quoteIdentifier(table)} ORDER BY ${order.join(', ')}`)
      .raw(true)
      .safeIntegers(true);
    let count = 0;
    for (const row of rows.iterate() as IterableIterator<unknown[]>) {
      for (const value of row) hashValue(hash, value);
      count++;
    }
    hash.update(`rows ${count}\n`);
  }
  return hash.digest('hex');
}

function hashValue(hash: Hash, value: unknown): void {
  const head = Buffer.alloc(9);
  if (value === null) {
    head[0] = TAG.null;
    hash.update(head.subarray(0, 1));
  } else if (typeof value === 'bigint') {
    head[0] = TAG.integer;
    head.writeBigInt64BE(value, 1);
    hash.update(head);
  } else if (typeof value === 'number') {
    head[0] = TAG.real;
    head.writeDoubleBE(value, 1);
    hash.update(head);
  } else if (typeof value === 'string' || value instanceof Uint8Array) {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    head[0] = typeof value === 'string' ? TAG.text : TAG.blob;
    head.writeUInt32BE(bytes.byteLength, 1);
    hash.update(head.subarray(0, 5));
    hash.update(bytes);
  } else {
    throw new Error(`unexpected SQLite value of type ${typeof value}`);
  }
}
