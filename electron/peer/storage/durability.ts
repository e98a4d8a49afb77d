// How long a commit waits for the disk. The class file runs with synchronous=FULL: a commit
// returns once it is on disk, which Raft needs for votes and log entries before anyone hears of
// them. Some writes don't need that fsync of their own: in WAL mode a commit made with
// synchronous=NORMAL survives a crash of the process (kill -9) and reaches the disk with the
// next full commit, and since the WAL is replayed as a prefix, a power cut never keeps a later
// commit without the earlier ones. So the state machine's apply (replayable from the log) and
// commit-index updates can skip their fsync, and the next Raft persist carries them.
import type Database from 'better-sqlite3';

interface Pragmas {
  normal: Database.Statement;
  full: Database.Statement;
}

const pragmas = new WeakMap<Database.Database, Pragmas>();

function pragmasFor(db: Database.Database): Pragmas {
  let found = pragmas.get(db);
  if (!found) {
    found = { normal: db.prepare('PRAGMA synchronous = NORMAL'), full: db.prepare('PRAGMA synchronous = FULL') };
    pragmas.set(db, found);
  }
  return found;
}

/**
 * Run `fn` in one transaction whose commit does not wait for the disk (see above). Only for
 * writes that may be lost on a power cut without anyone having been told they were kept.
 */
export function relaxedTransaction<T>(db: Database.Database, fn: () => T): T {
  const { normal, full } = pragmasFor(db);
  // SQLite refuses to change the level inside a transaction, so it brackets the transaction.
  normal.run();
  try {
    return db.transaction(fn)();
  } finally {
    full.run();
  }
}
