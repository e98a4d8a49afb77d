// Migration 007 on a class file made by 001 to 006 with members in it: the class and every laptop
// in it are on rules 1, the rules all of it was applied by, so nothing waits to be adopted.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { CLASSROOM_MIGRATIONS, classRules, laptopsBehindOn, noteableRules } from '../../electron/classroom';
import { migrate007ClassRules } from '../../electron/classroom/migrations/007-class-rules';

describe('migration 007: class rules', () => {
  it('puts an existing class and each of its laptops on rules 1', () => {
    const db = new Database(':memory:');
    const upTo006 = CLASSROOM_MIGRATIONS.slice(0, 6);
    expect(upTo006.at(-1)?.name).toBe('migrate006Readmissions');
    for (const migrate of upTo006) migrate(db);
    db.exec(`
      INSERT INTO class_info (id, class_id, name, subject, created_at, clock) VALUES (1, 'c1', 'Physics', '', 1, 1);
      INSERT INTO members (user_id, public_key, display_name, role, joined_at, removed_at) VALUES
        ('t1', 'pk-t', 'Ms Rivera', 'teacher', 1, NULL), ('s1', 'pk-s', 'Ana', 'student', 1, NULL);
      INSERT INTO member_laptops VALUES ('t1', 'laptop-t'), ('s1', 'laptop-s');
    `);
    migrate007ClassRules(db);
    expect(classRules(db)).toBe(1);
    expect(db.prepare('SELECT laptop_id, rules FROM member_laptops ORDER BY laptop_id').all()).toEqual([
      { laptop_id: 'laptop-s', rules: 1 },
      { laptop_id: 'laptop-t', rules: 1 },
    ]);
    expect(laptopsBehindOn(db, 1)).toEqual([]);
    expect(noteableRules(db, 'laptop-s', 1)).toBe(false);
    expect(noteableRules(db, 'laptop-s', 2)).toBe(true);
  });
});
