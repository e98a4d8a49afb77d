// "Approve each student" in Chromium, on real headless nodes over loopback: the teacher turns it
// on on the People page; a student's laptop that joins with the code is told, in plain words and
// with the name it asked as, that it waits for the teacher; the teacher sees who asks and from
// which laptop, live, lets them in, and the student's page goes on into the class. Screenshots at
// 1366x768, light and dark, go to /tmp/quorum-ui/join-approval-*.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadlessCluster, type NodeHandle } from '../integration/headless-cluster';
import { ensureRendererBuilt } from './renderer-build';
import { expectNoText, expectText, launchChromium, openPage, screenshot, WAIT } from './ui-support';

let cluster: HeadlessCluster;
let browser: Browser;
let teacherNode: NodeHandle;
let benNode: NodeHandle;
let teacher: Page;
let ben: Page;
let classId: string;
let joinCode: string;

const shot = (page: Page, name: string) => screenshot(page, `join-approval-${name}`);

beforeAll(async () => {
  ensureRendererBuilt();
  cluster = new HeadlessCluster();
  [browser, teacherNode, benNode] = await Promise.all([launchChromium(), cluster.add('teacher-laptop'), cluster.add('ben-laptop')]);
  ({ classId, joinCode } = await teacherNode.api.methods.createClass({ name: 'Biology 1C', subject: 'Biology', displayName: 'Ms Adeyemi' }));
  await cluster.connectAll();
  [teacher, ben] = await Promise.all([openPage(browser, teacherNode), openPage(browser, benNode)]);
  await teacher.getByRole('heading', { name: 'Assignments' }).waitFor(WAIT);
}, 120_000);

afterAll(async () => {
  for (const page of [teacher, ben]) await page?.context().close().catch(() => undefined);
  await browser?.close();
  await cluster?.destroy();
});

describe('approving each student', () => {
  it('keeps a student waiting, in plain words, until the teacher lets them in from the People page', async () => {
    await teacher.getByRole('navigation', { name: 'Class' }).getByRole('button', { name: 'People' }).click();
    const panel = teacher.getByRole('region', { name: 'Approve each student' });
    await panel.getByRole('checkbox', { name: 'Let each new student in myself' }).check();
    await expectText(panel, 'Nobody is waiting.');
    expect((await teacherNode.api.methods.classroom({ classId })).approveJoins).toBe(true);

    await ben.getByRole('button', { name: /I’m a student/ }).click();
    await ben.getByLabel('Join code').fill(joinCode);
    await ben.getByLabel('Your name').fill('Ben Okafor');
    await ben.getByRole('button', { name: 'Join the class' }).click();
    // The join form's own status line (the page has others, such as the status bar's).
    const waiting = ben.locator('form').getByRole('status');
    await expectText(waiting, 'Waiting for your teacher to let you in');
    await expectText(waiting, 'You asked to join as Ben Okafor.');
    await ben.getByRole('button', { name: 'Stop asking' }).waitFor(WAIT);
    await shot(ben, 'student-waiting');

    // Live on the teacher's page: the name Ben typed and the laptop he asked from.
    const requests = panel.getByRole('list', { name: 'Waiting to join' });
    await expectText(requests, 'Ben Okafor');
    await expectText(requests, `from laptop ${benNode.laptopId.slice(0, 8)}`);
    await shot(teacher, 'teacher-sees-request');
    // Nothing of the class reached Ben's laptop yet.
    expect((await benNode.api.methods.status({})).classes).toEqual([]);

    await panel.getByRole('button', { name: 'Let Ben Okafor in' }).click();
    await expectText(panel, 'Nobody is waiting.');
    await ben.getByRole('heading', { name: 'To do' }).waitFor({ timeout: 40_000 });
    await expectText(teacher.getByRole('region', { name: /Students/ }), 'Ben Okafor');
    await expectNoText(panel, 'Ben Okafor');
    await shot(teacher, 'teacher-after');
  }, 120_000);

  it('lets the teacher refuse a laptop, and let it in after all', async () => {
    const panel = teacher.getByRole('region', { name: 'Approve each student' });
    const choNode = await cluster.add('cho-laptop');
    await cluster.connectAll();
    // Cho asks without a page of her own: her laptop's API, as its join form would.
    const asking = choNode.api.methods.joinClass({ joinCode, displayName: 'Cho Park' }).then(
      () => 'joined',
      (error: unknown) => (error as Error).message,
    );
    await panel.getByRole('button', { name: 'Refuse' }).click();
    expect(await asking).toBe('Your teacher did not let this laptop into the class. Ask your teacher if that was a mistake.');
    const refused = panel.getByRole('list', { name: 'Not let in' });
    await expectText(refused, 'Cho Park');
    await expectText(panel, 'Nobody is waiting.');
    await shot(teacher, 'teacher-refused');

    await refused.getByRole('button', { name: 'Let Cho Park in after all' }).click();
    await expectNoText(panel, 'Cho Park');
    // Asked again, she is let straight in.
    await choNode.api.methods.joinClass({ joinCode, displayName: 'Cho Park' });
    await expectText(teacher.getByRole('region', { name: /Students/ }), 'Cho Park');
  }, 120_000);
});
