// What the storage needs to know about a state machine's tables to copy, compare and hash them
// without knowing what they mean.
import type Database from 'better-sqlite3';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Table and column names are spliced into SQL, so only plain identifiers are accepted. */
export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`"${name}" is not a plain SQL identifier`);
  return `"${name}"`;
}

interface ColumnInfo {
  name: string;
  pk: number;
}

function tableInfo(db: Database.Database, table: string): ColumnInfo[] {
  return db.prepare(`PRAGMA table_info(${quoteIdentifier(table)})`).all() as ColumnInfo[];
}

/** Column names in declaration order; empty if the table does not exist. */
export function columnNames(db: Database.Database, table: string): string[] {
  return tableInfo(db, table).map((column) => column.name);
}

/**
 * The columns that order the table's rows canonically: its primary key, or every column when it
 * has none (a rowid differs between replicas once rows have been copied by a snapshot).
 */
export function orderingColumns(db: Database.Database, table: string): string[] {
  const columns = tableInfo(db, table);
  const key = columns.filter((column) => column.pk > 0).sort((a, b) => a.pk - b.pk);
  return (key.length > 0 ? key : columns).map((column) => column.name);
}

/**
 * The CREATE statements of a table and its explicit indexes, table first. Triggers are left out:
 * an image holds data only, and copying rows must not fire anything.
 */
export function creationSql(db: Database.Database, table: string): string[] {
  return db
    .prepare(
      `SELECT sql FROM sqlite_master
        WHERE tbl_name = ? AND type IN ('table', 'index') AND sql IS NOT NULL
        ORDER BY type = 'table' DESC, name`,
    )
    .pluck()
    .all(table) as string[];
}

/**
 * Copy every row of `table` from one connection to another (the table exists on both with the
 * same columns). Integers travel as BigInt so 64-bit values survive.
 */
export function copyRows(from: Database.Database, to: Database.Database, table: string): number {
  const columns = columnNames(from, table).map(quoteIdentifier);
  const select = from.prepare(`SELECT ${columns.join(', ')} FROM ${quoteIdentifier(table)}`).raw(true).safeIntegers(true);
  const insert = to.prepare(
    `INSERT INTO ${quoteIdentifier(table)} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`,
  );
  let rows = 0;
  for (const row of select.iterate() as IterableIterator<unknown[]>) {
    insert.run(row);
    rows++;
  }
  return rows;
}
