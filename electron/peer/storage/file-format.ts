// Constants that identify Quorum's files on disk.

/**
 * `PRAGMA application_id` of every Quorum class file and snapshot image ('QUOR' in ASCII), so a
 * database from another program is recognised and refused rather than migrated into ours.
 */
export const QUORUM_APPLICATION_ID = 0x51554f52;

/** The first 16 bytes of every SQLite 3 database file. */
export const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');
