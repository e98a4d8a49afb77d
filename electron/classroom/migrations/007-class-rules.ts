import type Database from 'better-sqlite3';

/**
 * Class rules (shared/classroom/rules.ts): `class_info.rules` is the version of the rules the class
 * is applied by, `member_laptops.rules` the newest each laptop has said its Quorum can apply.
 * Every class so far was made and applied under rules 1, and every laptop in it knows them.
 */
export function migrate007ClassRules(db: Database.Database): void {
  db.exec(`
    ALTER TABLE class_info ADD COLUMN rules INTEGER NOT NULL DEFAULT 1;
    ALTER TABLE member_laptops ADD COLUMN rules INTEGER NOT NULL DEFAULT 1;
  `);
}
