import type Database from 'better-sqlite3';

/**
 * The class's current join code, apart from its secret: a teacher can make a new one or take it
 * away without touching the laptops already in the class. Null: nobody new can join.
 */
export function migrate002JoinCode(db: Database.Database): void {
  db.exec('ALTER TABLE class_info ADD COLUMN join_code TEXT');
}
