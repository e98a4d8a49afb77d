// The class's files as the laptops that keep copies see them: every file a material, a draft
// or a turned-in attempt refers to, once, with the laptops of the people who attached it; the
// same list on every replica of the same log.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { classFiles } from '../../electron/classroom/queries';
import type { FileRef } from '../../shared/classroom/commands';
import { assignment, classWith, expectApplied } from './support';

function file(name: string): FileRef {
  return { sha256: createHash('sha256').update(name).digest('hex'), name, type: 'application/pdf', size: name.length * 1000 };
}

describe('classFiles', () => {
  it('lists materials, drafts and turned-in work once each, by hash, with their owners’ laptops', () => {
    const { replica, teacher, students } = classWith(['Ana', 'Ben']);
    const [ana, ben] = students as [(typeof students)[0], (typeof students)[0]];
    const worksheet = file('worksheet.pdf');
    const first = file('first-try.pdf');
    const second = file('second-try.pdf');
    expectApplied(replica.run(teacher, assignment('lab-0001', { materials: [worksheet] })));
    expectApplied(replica.run(ana, { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 0, text: '', files: [first] }));
    expectApplied(replica.run(ana, { type: 'turnIn', assignmentId: 'lab-0001' }));
    expectApplied(replica.run(ana, { type: 'unsubmit', assignmentId: 'lab-0001' }));
    // The draft's file replaced: the first stays in the turned-in attempt.
    expectApplied(replica.run(ana, { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 3, text: '', files: [second] }));
    // Ben hands the worksheet back filled in… unchanged: one file, two owners.
    expectApplied(replica.run(ben, { type: 'saveDraft', assignmentId: 'lab-0001', baseVersion: 0, text: '', files: [worksheet] }));

    const expected = [
      { ...worksheet, ownerLaptops: ['laptop-1', 'laptop-t'] },
      { ...first, ownerLaptops: ['laptop-0'] },
      { ...second, ownerLaptops: ['laptop-0'] },
    ]
      .map(({ type: _type, ...rest }) => rest)
      .sort((a, b) => a.sha256.localeCompare(b.sha256));
    expect(classFiles(replica.db)).toEqual(expected);
    expect(classFiles(replica.replay().db)).toEqual(expected);
  });

  it('lists nothing for a class without files', () => {
    const { replica, teacher } = classWith(['Ana']);
    expectApplied(replica.run(teacher, assignment('lab-0001')));
    expect(classFiles(replica.db)).toEqual([]);
  });
});
