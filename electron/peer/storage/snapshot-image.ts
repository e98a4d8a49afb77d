// A snapshot's data is a standalone SQLite image holding the state machine's tables and a note
// of which state machine (and schema version) wrote it. An image is what `serialize()` returns,
// so a receiver can open it with SQLite and check it completely before changing anything.
import Database from 'better-sqlite3';
import { InvalidSnapshotError, NeedsNewerQuorumError } from './errors';
import { runMigrations } from './migrate';
import { QUORUM_APPLICATION_ID, SQLITE_HEADER } from './file-format';
import { columnNames, copyRows, creationSql, quoteIdentifier } from './table-info';
import type { StateMachine } from './state-machine';

/** The image's own table: which state machine wrote it, and at which schema version. */
const INFO_TABLE = 'quorum_snapshot';

/** A copy of the state machine's tables as they are now in `db`, as SQLite image bytes. */
export function createImage(db: Database.Database, stateMachine: StateMachine<unknown>, schemaVersion: number): Uint8Array {
  const image = new Database(':memory:');
  try {
    // Rows are copied table by table, so references between tables are briefly dangling.
    image.pragma('foreign_keys = OFF');
    image.pragma(`application_id = ${QUORUM_APPLICATION_ID}`);
    image.exec(`CREATE TABLE ${INFO_TABLE} (component TEXT NOT NULL, schema_version INTEGER NOT NULL)`);
    image.prepare(`INSERT INTO ${INFO_TABLE} VALUES (?, ?)`).run(stateMachine.name, schemaVersion);
    for (const table of stateMachine.tables) for (const sql of creationSql(db, table)) image.exec(sql);
    image.transaction(() => {
      for (const table of stateMachine.tables) copyRows(db, image, table);
    })();
    const bytes = image.serialize();
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  } finally {
    image.close();
  }
}

/**
 * Open received image bytes and check that they can replace the state tables of `db`: a sound
 * SQLite image, written by Quorum, by the same state machine at our schema version or an earlier
 * one (migrated here to ours), with every table present and shaped like ours. An image from a
 * newer schema is refused with NeedsNewerQuorumError. The caller closes the returned handle.
 */
export function openImage(
  data: Uint8Array,
  db: Database.Database,
  stateMachine: StateMachine<unknown>,
  schemaVersion: number,
): Database.Database {
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (!bytes.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)) throw new InvalidSnapshotError('its bytes are not a database image');
  let image: Database.Database;
  try {
    image = new Database(bytes);
  } catch (error) {
    throw new InvalidSnapshotError('its bytes are not a database image', { cause: error });
  }
  try {
    checkImage(image, db, stateMachine, schemaVersion);
    return image;
  } catch (error) {
    image.close();
    if (error instanceof InvalidSnapshotError || error instanceof NeedsNewerQuorumError) throw error;
    throw new InvalidSnapshotError('its bytes are not a readable database image', { cause: error });
  }
}

function checkImage(image: Database.Database, db: Database.Database, stateMachine: StateMachine<unknown>, schemaVersion: number): void {
  const check = image.pragma('quick_check', { simple: true });
  if (check !== 'ok') throw new InvalidSnapshotError(`the image is damaged (${String(check)})`);
  if (image.pragma('application_id', { simple: true }) !== QUORUM_APPLICATION_ID) {
    throw new InvalidSnapshotError('the image was not made by Quorum');
  }
  if (columnNames(image, INFO_TABLE).length === 0) throw new InvalidSnapshotError('the image does not say what made it');
  const info = image.prepare(`SELECT component, schema_version AS version FROM ${INFO_TABLE}`).all() as Array<{
    component: string;
    version: number;
  }>;
  if (info.length !== 1 || info[0]!.component !== stateMachine.name) {
    throw new InvalidSnapshotError(`the image does not hold ${stateMachine.name} state`);
  }
  const version = info[0]!.version;
  if (!Number.isSafeInteger(version) || version < 1) throw new InvalidSnapshotError(`the image says its tables are at version ${String(version)}`);
  if (version > schemaVersion) {
    throw new NeedsNewerQuorumError(`a laptop sent ${stateMachine.name} tables at version ${version}; this Quorum knows versions up to ${schemaVersion}`);
  }
  // From a laptop not yet updated: brought up to date by the very migrations this laptop ran on its own file.
  runMigrations(image, stateMachine.migrations.slice(0, schemaVersion), version, (migrated) =>
    image.prepare(`UPDATE ${INFO_TABLE} SET schema_version = ?`).run(migrated),
  );
  for (const table of stateMachine.tables) {
    const theirs = columnNames(image, table);
    if (theirs.length === 0) throw new InvalidSnapshotError(`the image lacks the table ${table}`);
    const ours = columnNames(db, table);
    if (theirs.join(',') !== ours.join(',')) {
      throw new InvalidSnapshotError(`the table ${table} has columns (${theirs.join(', ')}), expected (${ours.join(', ')})`);
    }
  }
}

/** Replace the state tables of `db` with the image's rows. Runs inside the caller's transaction. */
export function restoreImage(image: Database.Database, db: Database.Database, stateMachine: StateMachine<unknown>): void {
  // Foreign keys are checked at commit, once every table holds the image's rows.
  db.pragma('defer_foreign_keys = ON');
  for (const table of stateMachine.tables) db.exec(`DELETE FROM ${quoteIdentifier(table)}`);
  for (const table of stateMachine.tables) copyRows(image, db, table);
}
