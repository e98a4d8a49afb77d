// Migration 002 on a class file made by 001 with a class in it: the class stays, and has no join
// code in use until a teacher makes one (classes made since carry theirs from creation).
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { currentJoinCode } from '../../electron/classroom';
import { migrate001Classroom } from '../../electron/classroom/migrations/001-classroom';
import { migrate002JoinCode } from '../../electron/classroom/migrations/002-join-code';

describe('migration 002: the join code', () => {
  it('adds an empty join code to an existing class', () => {
    const db = new Database(':memory:');
    migrate001Classroom(db);
    db.prepare("INSERT INTO class_info (id, class_id, name, subject, created_at, clock) VALUES (1, 'c1', 'Physics', '', 1, 1)").run();
    migrate002JoinCode(db);
    expect(db.prepare('SELECT name FROM class_info').pluck().get()).toBe('Physics');
    expect(currentJoinCode(db)).toBeNull();
    db.prepare("UPDATE class_info SET join_code = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'").run();
    expect(currentJoinCode(db)).toBe('ABCDEFGHJKLMNPQRSTUVWXYZ23456789');
  });
});
