// Migration 005 on a class file made by 001–004 with a class in it: the class stays, lets anyone
// with its code in (approval off) and has nobody waiting.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { approvesJoins, joinStanding } from '../../electron/classroom';
import { migrate001Classroom } from '../../electron/classroom/migrations/001-classroom';
import { migrate002JoinCode } from '../../electron/classroom/migrations/002-join-code';
import { migrate003SealedItems } from '../../electron/classroom/migrations/003-sealed-items';
import { migrate004ClassSecrets } from '../../electron/classroom/migrations/004-class-secrets';
import { migrate005JoinApproval } from '../../electron/classroom/migrations/005-join-approval';

describe('migration 005: approving each student', () => {
  it('leaves an existing class open to its join code, with an empty list of requests', () => {
    const db = new Database(':memory:');
    migrate001Classroom(db);
    migrate002JoinCode(db);
    migrate003SealedItems(db);
    migrate004ClassSecrets(db);
    db.prepare("INSERT INTO class_info (id, class_id, name, subject, created_at, clock) VALUES (1, 'c1', 'Physics', '', 1, 1)").run();
    migrate005JoinApproval(db);
    expect(db.prepare('SELECT name FROM class_info').pluck().get()).toBe('Physics');
    expect(approvesJoins(db)).toBe(false);
    expect(joinStanding(db, 'laptop-a')).toBe('open');
    db.prepare('UPDATE class_info SET approve_joins = 1').run();
    expect(joinStanding(db, 'laptop-a')).toBe('unknown');
    expect(db.prepare('SELECT count(*) FROM join_requests').pluck().get()).toBe(0);
    expect(() => db.prepare("INSERT INTO join_requests VALUES ('l', 'n', 'u', 1, 'maybe', NULL, NULL)").run()).toThrow(/CHECK/);
  });
});
