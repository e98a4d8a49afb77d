// A teacher's tools end to end, in Chromium, on a class of three laptops: a teacher and two
// students, real headless nodes on loopback, each serving the built page. The teacher hands out
// a file with a new assignment and a student downloads the same bytes; an extension shows on
// the student's pages and in the teacher's list; when both students' laptops are gone the
// teacher's page offers recovery, shows the plan and, once confirmed, the class saves again; the
// students come back, and one of them, made a teacher, sees the teacher's pages. Controls are
// found by role and label. Screenshots at 1366x768, light and dark, go to /tmp/quorum-ui/teacher-tools-*.
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, HeadlessCluster, type NodeHandle } from '../integration/headless-cluster';
import { ensureRendererBuilt } from './renderer-build';
import { expectNoText, expectText, launchChromium, openPage, screenshot, statusBar, WAIT } from './ui-support';

let cluster: HeadlessCluster;
let browser: Browser;
let teacherNode: NodeHandle;
let anaNode: NodeHandle;
let benNode: NodeHandle;
let teacher: Page;
let ana: Page;
let ben: Page;

/** A worksheet of about 700 KB of every byte value: more than one upload part, and no text encoding could pass it unchanged by luck. */
const worksheet = Buffer.from(Array.from({ length: 700_000 }, (_, i) => (i * 7919 + (i >> 8)) % 256));

const shot = (page: Page, name: string) => screenshot(page, `teacher-tools-${name}`);

beforeAll(async () => {
  ensureRendererBuilt();
  cluster = new HeadlessCluster();
  [browser, teacherNode, anaNode, benNode] = await Promise.all([
    launchChromium(),
    cluster.add('teacher-laptop'),
    cluster.add('ana-laptop'),
    cluster.add('ben-laptop'),
  ]);
  // The class is formed through the API (the classroom UI test covers forming it in the page):
  // the teacher's laptop creates it, the students' laptops join with its code.
  const { joinCode } = await teacherNode.api.methods.createClass({ name: 'Chemistry 2A', subject: 'Chemistry', displayName: 'Mr Okafor' });
  await cluster.connectAll();
  await anaNode.api.methods.joinClass({ joinCode, displayName: 'Ana' });
  await benNode.api.methods.joinClass({ joinCode, displayName: 'Ben' });
  await eventually(
    'three voting laptops, the students registered',
    async () => {
      const [status] = (await teacherNode.api.methods.status({})).classes;
      if (!status || status.voters.length !== 3) return false;
      const { members } = await teacherNode.api.methods.classroom({ classId: status.classId });
      return members.filter((m) => m.role === 'student').length === 2;
    },
    40_000,
  );
  [teacher, ana, ben] = await Promise.all([openPage(browser, teacherNode), openPage(browser, anaNode), openPage(browser, benNode)]);
  await Promise.all([
    teacher.getByRole('heading', { name: 'Assignments' }).waitFor(WAIT),
    ana.getByRole('heading', { name: 'To do' }).waitFor(WAIT),
    ben.getByRole('heading', { name: 'To do' }).waitFor(WAIT),
  ]);
}, 120_000);

afterAll(async () => {
  for (const page of [teacher, ana, ben]) await page?.context().close().catch(() => undefined);
  await browser?.close();
  await cluster?.destroy();
});

describe('a teacher’s tools', () => {
  it('hands out a file with a new assignment, which a student downloads byte for byte', async () => {
    await teacher.getByRole('button', { name: 'New assignment' }).click();
    await teacher.getByLabel('Title').fill('Titration lab');
    await teacher.getByLabel('Instructions', { exact: true }).fill('Follow the worksheet. Record every reading.');
    await teacher.getByLabel('Due', { exact: true }).fill('2031-05-20T09:00');
    // Two files added, one removed again: only the worksheet goes out with the assignment.
    await teacher.getByLabel('Add a file').setInputFiles({ name: 'worksheet.pdf', mimeType: 'application/pdf', buffer: worksheet });
    await teacher.getByRole('button', { name: 'Remove worksheet.pdf' }).waitFor(WAIT);
    await teacher.getByLabel('Add a file').setInputFiles({ name: 'old-notes.txt', mimeType: 'text/plain', buffer: Buffer.from('last year’s notes\n') });
    await teacher.getByRole('button', { name: 'Remove old-notes.txt' }).click();
    const materials = teacher.getByRole('list', { name: 'Materials' });
    await expectNoText(materials, 'old-notes.txt');
    await expectText(materials, 'worksheet.pdf (700 KB)');
    await shot(teacher, 'editor-materials');
    await teacher.getByRole('button', { name: 'Create assignment' }).click();
    await teacher.getByRole('button', { name: 'Titration lab', exact: true }).click();
    await expectText(teacher.getByRole('region', { name: 'Materials (1)' }), 'worksheet.pdf');

    // The student's laptop fetches the file from the teacher's when asked for it.
    await ana.getByRole('button', { name: 'Titration lab', exact: true }).click();
    const handedOut = ana.getByRole('list', { name: 'Materials' });
    await expectText(handedOut, 'worksheet.pdf');
    await shot(ana, 'student-materials');
    const [download] = await Promise.all([ana.waitForEvent('download', WAIT), handedOut.getByRole('button', { name: 'Download worksheet.pdf' }).click()]);
    expect(download.suggestedFilename()).toBe('worksheet.pdf');
    expect(readFileSync(await download.path()).equals(worksheet)).toBe(true);
  }, 120_000);

  it('shows an extension on the student’s pages and in the teacher’s list, and no one else’s', async () => {
    const submissions = teacher.getByRole('table', { name: 'Submissions for Titration lab' });
    await submissions.getByRole('button', { name: 'Ana' }).click();
    await teacher.getByText('Extension or excuse for Ana').click();
    await teacher.getByLabel('New due date for Ana').fill('2031-05-27T09:00');
    await teacher.getByRole('button', { name: 'Give extension' }).click();
    await expectText(statusBar(teacher), 'Ana now has until');
    await expectText(submissions.getByRole('row', { name: /Ana/ }), 'Extension: until');
    await expectText(submissions.getByRole('row', { name: /Ana/ }), '27');
    await teacher.getByText(/Ana has an extension: due .*27/).waitFor(WAIT);
    expect(await submissions.getByRole('row', { name: /Ben/ }).innerText()).not.toContain('Extension');
    await shot(teacher, 'extension-list');

    // Ana sees her own date marked, on the assignment and on her to-do list; Ben sees the class's.
    await expectText(ana.getByRole('main'), 'Extended for you');
    await ana.getByText(/Due .*27.*Extended for you/).waitFor(WAIT);
    await ana.getByRole('navigation', { name: 'Class' }).getByRole('button', { name: 'To do' }).click();
    const anaItem = ana.getByRole('listitem').filter({ hasText: 'Titration lab' });
    await expectText(anaItem, 'Extended for you');
    await shot(ana, 'extension-todo');
    const benItem = ben.getByRole('listitem').filter({ hasText: 'Titration lab' });
    await expectText(benItem, '20');
    expect(await benItem.innerText()).not.toContain('Extended');
  }, 120_000);

  it('offers recovery when both students’ laptops are gone, shows the plan, and saves again once confirmed', async () => {
    const banner = teacher.getByRole('region', { name: 'The class can’t save' });
    // While the class is fine, nothing is offered.
    await teacher.getByRole('navigation', { name: 'Class' }).getByRole('button', { name: 'Class network' }).click();
    await teacher.getByRole('heading', { name: 'Class network' }).waitFor(WAIT);
    expect(await teacher.getByRole('heading', { name: 'Recover the class' }).count()).toBe(0);
    expect(await banner.count()).toBe(0);
    await teacher.getByRole('navigation', { name: 'Class' }).getByRole('button', { name: 'Assignments' }).click();

    await Promise.all([cluster.kill(anaNode), cluster.kill(benNode)]);
    await expectText(statusBar(teacher), 'Not connected to Chemistry 2A');
    await banner.waitFor({ timeout: 30_000 });
    await shot(teacher, 'recovery-banner');
    await banner.getByRole('button', { name: 'Recover the class…' }).click();
    await teacher.getByRole('heading', { name: 'Class network' }).waitFor(WAIT);
    const plan = teacher.getByRole('group', { name: 'What recovering would do' });
    await expectText(plan, 'Only 1 of the class’s 3 voting laptops can be reached');
    await expectText(plan, 'This laptop would rebuild the class from its copy');
    await expectText(plan, /Away: (Ana’s laptop and Ben’s laptop|Ben’s laptop and Ana’s laptop)\./);
    await expectText(plan, 'will be lost');
    await shot(teacher, 'recovery-plan');

    await teacher.getByRole('button', { name: 'Recover the class now' }).click();
    await expectText(teacher.getByRole('region', { name: 'Recover the class' }), 'The class was recovered.');
    await expectText(teacher.getByRole('region', { name: 'Recover the class' }), 'It is led by this laptop');
    await expectText(statusBar(teacher), /Connected to Chemistry 2A[\s\S]*Led by this laptop/);
    await shot(teacher, 'recovered');
    await teacher.getByRole('button', { name: 'Done' }).click();

    // The class saves again: a new assignment is saved, not left waiting.
    await teacher.getByRole('navigation', { name: 'Class' }).getByRole('button', { name: 'Assignments' }).click();
    await teacher.getByRole('button', { name: 'New assignment' }).click();
    await teacher.getByLabel('Title').fill('After the recovery');
    await teacher.getByRole('button', { name: 'Create assignment' }).click();
    await teacher.getByRole('button', { name: 'After the recovery', exact: true }).waitFor(WAIT);
    await expectText(statusBar(teacher), 'All changes saved');
    expect(await banner.count()).toBe(0);
    const [status] = (await teacherNode.api.methods.status({})).classes;
    const { assignments } = await teacherNode.api.methods.classroom({ classId: status!.classId });
    expect(assignments.map((a) => a.title)).toContain('After the recovery');
  }, 120_000);

  it('makes a student a teacher, after saying what it means, and they then see the teacher’s pages', async () => {
    // The students' laptops come back and take the recovered copy.
    await Promise.all([cluster.start(anaNode), cluster.start(benNode)]);
    await ben.getByRole('navigation', { name: 'Class' }).getByRole('button', { name: 'To do' }).click();
    await ben.getByRole('button', { name: 'After the recovery', exact: true }).waitFor({ timeout: 40_000 });

    await teacher.getByRole('navigation', { name: 'Class' }).getByRole('button', { name: 'People' }).click();
    await teacher.getByRole('button', { name: 'Make Ben a teacher' }).click();
    const confirm = teacher.getByRole('group', { name: 'Confirm making Ben a teacher' });
    await expectText(confirm, 'They will see every student’s work and grades');
    await shot(teacher, 'make-teacher-confirm');
    await confirm.getByRole('button', { name: 'Yes, make Ben a teacher' }).click();
    await expectText(teacher.getByRole('region', { name: /Teachers/ }), 'Ben');
    await expectNoText(teacher.getByRole('region', { name: /Students/ }), 'Ben');
    await expectText(teacher.getByRole('heading', { name: /Teachers/ }), 'Teachers (2)');
    await shot(teacher, 'people-two-teachers');

    // Ben's page turns into a teacher's: the assignments list, the People page, and everyone's work.
    const benNav = ben.getByRole('navigation', { name: 'Class' });
    await benNav.getByRole('button', { name: 'People' }).waitFor({ timeout: 30_000 });
    await expectText(ben.getByRole('banner'), 'Ben (teacher)');
    await benNav.getByRole('button', { name: 'Assignments' }).click();
    await ben.getByRole('heading', { name: 'Assignments' }).waitFor(WAIT);
    await ben.getByRole('button', { name: 'Titration lab', exact: true }).click();
    const submissions = ben.getByRole('table', { name: 'Submissions for Titration lab' });
    await expectText(submissions.getByRole('row', { name: /Ana/ }), 'Extension: until');
    await benNav.getByRole('button', { name: 'People' }).click();
    await expectText(ben.getByRole('region', { name: /Teachers/ }), 'Mr Okafor');
    await shot(ben, 'new-teacher');
  }, 120_000);

  it('makes a new join code, which replaces the old one, and turns joining off and on again', async () => {
    await teacher.getByRole('navigation', { name: 'Class' }).getByRole('button', { name: 'People' }).click();
    const codeFigure = teacher.getByRole('figure', { name: 'Join code' });
    const shown = async () => (await codeFigure.locator('.line').allTextContents()).join('-');
    await codeFigure.waitFor(WAIT);
    const before = await shown();
    await teacher.getByRole('button', { name: 'Make a new code' }).click();
    await expectText(teacher.getByRole('group', { name: /The code shown now will stop working/ }), 'Everyone already in the class stays in.');
    await shot(teacher, 'new-code-confirm');
    await teacher.getByRole('button', { name: 'Yes, make a new code' }).click();
    await expect.poll(shown, WAIT).not.toBe(before);
    const after = await shown();
    expect(after).toMatch(/^[A-Z2-9]{4}(-[A-Z2-9]{4}){7}$/);
    // The class itself has the new code: the one a new laptop would have to show.
    const [status] = (await teacherNode.api.methods.status({})).classes;
    expect((await teacherNode.api.methods.classroom({ classId: status!.classId })).joinCode).toBe(after);

    await teacher.getByRole('button', { name: 'Turn joining off' }).click();
    await teacher.getByRole('button', { name: 'Yes, turn joining off' }).click();
    await expectText(teacher.getByRole('region', { name: 'Let students join' }), 'Joining is off: nobody new can join this class.');
    expect(await codeFigure.count()).toBe(0);
    await shot(teacher, 'joining-off');
    await teacher.getByRole('button', { name: 'Make a join code' }).click();
    await codeFigure.waitFor(WAIT);
    expect(await shown()).not.toBe(after);
  }, 60_000);
});
