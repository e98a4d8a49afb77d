// Migration 003 on a class file made by 001 and 002 with work in it: the rows written before
// keep their text and grades (nothing can seal them afterwards) and the views still show them;
// members have no box key until they give one; the tables for sealed items are there and empty.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { gradebook, NO_KEYS, submission } from '../../electron/classroom';
import { migrate001Classroom } from '../../electron/classroom/migrations/001-classroom';
import { migrate002JoinCode } from '../../electron/classroom/migrations/002-join-code';
import { migrate003SealedItems } from '../../electron/classroom/migrations/003-sealed-items';

describe('migration 003: sealed items', () => {
  it('keeps the work written before, readable as it was, and adds empty sealed-item tables', () => {
    const db = new Database(':memory:');
    migrate001Classroom(db);
    migrate002JoinCode(db);
    db.exec(`
      INSERT INTO class_info (id, class_id, name, subject, created_at, clock) VALUES (1, 'c1', 'Physics', '', 1, 1);
      INSERT INTO members VALUES ('t1', 'pk-t', 'Ms Rivera', 'teacher', 1, NULL), ('s1', 'pk-s', 'Ana', 'student', 1, NULL);
      INSERT INTO assignments VALUES ('lab-0001', 'Lab', '', 20, NULL, NULL, 1, '[]', 't1', 1, 1, 1);
      INSERT INTO submissions VALUES ('lab-0001', 's1', 'Period: 1.4 s', '[]', 1, 2, 2, 1, 2, 2);
      INSERT INTO grades VALUES ('lab-0001', 's1', 18, 'Neat', 0, 18, 'Neat', 3, 3, 2);
    `);
    migrate003SealedItems(db);
    expect(db.prepare('SELECT user_id, box_key FROM members ORDER BY user_id').all()).toEqual([
      { user_id: 's1', box_key: null },
      { user_id: 't1', box_key: null },
    ]);
    expect(db.prepare('SELECT count(*) FROM sealed_items').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM item_keys').pluck().get()).toBe(0);
    expect(db.prepare('SELECT item_id FROM submissions').pluck().get()).toBeNull();
    expect(submission(db, NO_KEYS('t1'), 'lab-0001', 's1', 10)).toMatchObject({ text: 'Period: 1.4 s', grade: { score: 18, feedback: 'Neat' } });
    expect(submission(db, NO_KEYS('s1'), 'lab-0001', 's1', 10).grade).toMatchObject({ score: 18, feedback: 'Neat', returnedAt: 3 });
    expect(gradebook(db, NO_KEYS('t1'), 10).rows[0]!.cells[0]).toMatchObject({ status: 'returned', score: 18 });
  });
});
