// Migration 006 on a class file made by 001 to 005 with members and work in it: nobody has been
// re-admitted, so every member's key still acts as them and nothing is lost; the work stays.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { NO_KEYS, signerOf, submission } from '../../electron/classroom';
import { migrate001Classroom } from '../../electron/classroom/migrations/001-classroom';
import { migrate002JoinCode } from '../../electron/classroom/migrations/002-join-code';
import { migrate003SealedItems } from '../../electron/classroom/migrations/003-sealed-items';
import { migrate004ClassSecrets } from '../../electron/classroom/migrations/004-class-secrets';
import { migrate005JoinApproval } from '../../electron/classroom/migrations/005-join-approval';
import { migrate006Readmissions } from '../../electron/classroom/migrations/006-readmissions';

describe('migration 006: re-admissions', () => {
  it('adds empty re-admission and lost-laptop tables and leaves every member acting as themselves', () => {
    const db = new Database(':memory:');
    migrate001Classroom(db);
    migrate002JoinCode(db);
    migrate003SealedItems(db);
    migrate004ClassSecrets(db);
    migrate005JoinApproval(db);
    db.exec(`
      INSERT INTO class_info (id, class_id, name, subject, created_at, clock) VALUES (1, 'c1', 'Physics', '', 1, 1);
      INSERT INTO members (user_id, public_key, display_name, role, joined_at, removed_at) VALUES
        ('t1', 'pk-t', 'Ms Rivera', 'teacher', 1, NULL), ('s1', 'pk-s', 'Ana', 'student', 1, NULL);
      INSERT INTO member_laptops VALUES ('s1', 'laptop-s');
      INSERT INTO assignments VALUES ('lab-0001', 'Lab', '', 20, NULL, NULL, 1, '[]', 't1', 1, 1, 1);
      INSERT INTO submissions (assignment_id, student_id, text, files, turned_in, turned_in_at, turned_in_client_at, attempts, updated_at, version)
        VALUES ('lab-0001', 's1', 'Period: 1.4 s', '[]', 1, 2, 2, 1, 2, 2);
    `);
    migrate006Readmissions(db);
    expect(db.prepare('SELECT count(*) FROM readmissions').pluck().get()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM lost_laptops').pluck().get()).toBe(0);
    expect(signerOf(db, 's1', 'pk-s')).toEqual({ userId: 's1', replaced: false });
    expect(signerOf(db, 't1', 'pk-t')).toEqual({ userId: 't1', replaced: false });
    expect(db.prepare('SELECT laptop_id FROM member_laptops').pluck().all()).toEqual(['laptop-s']);
    expect(submission(db, NO_KEYS('s1'), 'lab-0001', 's1', 10)).toMatchObject({ text: 'Period: 1.4 s', turnedIn: true });
  });
});
