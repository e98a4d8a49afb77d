// The classroom UI end to end, in Chromium, against three real headless nodes on loopback (the
// class's three voters), each serving the built page at its API origin. A teacher creates a class
// and an assignment in the page; two students join from their own laptops' pages (adding the
// teacher's laptop by address, as where the network blocks discovery). Ana, who has an
// extension, turns in text and a file on time; the leader's laptop is killed and the pages show
// the outage; Ben turns in while the class cannot save, sees it waiting, then saved after
// recovery, late. The teacher grades and returns both; each student sees only their own grade.
// Also: private comments, the gradebook's CSV export, a stale edit, the people and network pages,
// the theme toggle. Controls are found by role and label, so the test also proves they are
// labelled. Screenshots at 1366x768, light and dark, go to /tmp/quorum-ui/.
import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classStatus, leaderOf } from '../integration/class-helpers';
import { eventually, HeadlessCluster, type NodeHandle } from '../integration/headless-cluster';
import { ensureRendererBuilt } from './renderer-build';
import { expectAttribute, expectNoneOf, expectNoText, expectText, launchChromium, openPage, screenshot, statusBar, WAIT } from './ui-support';

let cluster: HeadlessCluster;
let browser: Browser;

beforeAll(async () => {
  ensureRendererBuilt();
  cluster = new HeadlessCluster();
  [browser] = await Promise.all([launchChromium(), cluster.add('teacher-laptop'), cluster.add('ana-laptop'), cluster.add('ben-laptop')]);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await cluster?.destroy();
});

/** The value of an <input type="datetime-local"> for yesterday at 09:00, this machine's time: a due date already past. */
function yesterdayAtNine(): string {
  const day = new Date(Date.now() - 24 * 3600_000);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}T09:00`;
}

/** A student's first run: add the teacher's laptop by address, join with the code, wait to be in. */
async function joinAsStudent(page: Page, teacherNode: NodeHandle, joinCode: string, name: string, options: { tryWrongCodeFirst?: boolean } = {}): Promise<void> {
  await page.getByRole('button', { name: /I’m a student/ }).click();
  await page.getByText('The class is not found?').click();
  await page.getByLabel('Laptop address').fill(`${teacherNode.laptopId}@127.0.0.1:${teacherNode.transportPort}`);
  await page.getByRole('button', { name: 'Add laptop' }).click();
  await page.getByText('Added.').waitFor(WAIT);
  await page.getByLabel('Your name').fill(name);
  if (options.tryWrongCodeFirst) {
    // A mistyped code is explained in a sentence.
    await page.getByLabel('Join code').fill('ABCD-EFGH');
    await page.getByRole('button', { name: 'Join the class' }).click();
    await expectText(page.getByRole('alert'), 'That join code is not right.');
  }
  await page.getByLabel('Join code').fill(joinCode.toLowerCase());
  await page.getByRole('button', { name: 'Join the class' }).click();
  await page.getByRole('heading', { name: 'To do' }).waitFor({ timeout: 30_000 });
}

describe('the classroom UI', () => {
  it('runs a class of a teacher and two students through a leader’s crash, each student seeing only their own grade', async () => {
    const [teacherNode, anaNode, benNode] = cluster.nodes as [NodeHandle, NodeHandle, NodeHandle];
    const [teacher, ana, ben] = await Promise.all([openPage(browser, teacherNode), openPage(browser, anaNode), openPage(browser, benNode)]);
    const pageOf = new Map<NodeHandle, Page>([
      [teacherNode, teacher],
      [anaNode, ana],
      [benNode, ben],
    ]);

    // First run on the teacher's laptop: create the class, show the join code.
    await teacher.getByRole('heading', { name: 'Welcome to Quorum' }).waitFor(WAIT);
    await screenshot(teacher, 'welcome');
    await teacher.getByRole('button', { name: /I teach this class/ }).click();
    await teacher.getByLabel('Class name').fill('Physics 3B');
    await teacher.getByLabel('Subject').fill('Physics');
    await teacher.getByLabel('Your name').fill('Ms Rivera');
    await teacher.getByRole('button', { name: 'Create the class' }).click();
    const codeFigure = teacher.getByRole('figure', { name: 'Join code' });
    await codeFigure.waitFor(WAIT);
    const joinCode = (await codeFigure.locator('.line').allTextContents()).join('-');
    expect(joinCode).toMatch(/^[A-Z2-9]{4}(-[A-Z2-9]{1,4}){7}$/);
    await screenshot(teacher, 'join-code');
    await teacher.getByRole('button', { name: 'Continue to the class' }).click();
    await teacher.getByRole('heading', { name: 'Assignments' }).waitFor(WAIT);
    await expectText(statusBar(teacher), /Connected to Physics 3B[\s\S]*Led by this laptop[\s\S]*1 of 1 laptop online[\s\S]*All changes saved/);

    // Two students join from their own laptops at the same time.
    await Promise.all([joinAsStudent(ana, teacherNode, joinCode, 'Ana', { tryWrongCodeFirst: true }), joinAsStudent(ben, teacherNode, joinCode, 'Ben')]);
    // The autopilot makes all three laptops voters: one laptop's death then leaves a majority.
    await eventually('three voters', async () => (await classStatus(teacherNode)).voters.length === 3, WAIT.timeout);
    for (const page of [teacher, ana, ben]) await expectText(statusBar(page), /Connected to Physics 3B[\s\S]*3 of 3 laptops online/);

    // The teacher writes an assignment that was due yesterday; the students' pages show it without reloading.
    await teacher.getByRole('button', { name: 'New assignment' }).click();
    await teacher.getByLabel('Title').fill('Essay on consensus');
    await teacher.getByLabel('Instructions', { exact: true }).fill('# Task\nExplain in **three** sentences why a *majority* is enough.\n- Use your own words\n- No more than 100 words');
    await teacher.getByLabel('Points').fill('10');
    await teacher.getByLabel('Due', { exact: true }).fill(yesterdayAtNine());
    await teacher.getByRole('region', { name: 'Preview of the instructions' }).getByRole('heading', { name: 'Task' }).waitFor(WAIT);
    await screenshot(teacher, 'assignment-editor');
    await teacher.getByRole('button', { name: 'Create assignment' }).click();
    await teacher.getByRole('button', { name: 'Essay on consensus', exact: true }).waitFor(WAIT);
    const created = Date.now();
    await Promise.all([ana, ben].map((page) => page.getByRole('button', { name: 'Essay on consensus', exact: true }).waitFor(WAIT)));
    console.log(`the new assignment appeared on both students' pages ${Date.now() - created} ms after the teacher's page listed it`);
    await screenshot(teacher, 'teacher-assignments');
    // Its due date has passed: both students are missing it.
    for (const page of [ana, ben]) await expectText(page.getByRole('main'), 'Missing');

    // Ana has an extension, so she is on time whenever the class commits her turn-in; Ben has
    // none, so his turn-in is late (lateness is decided from the committed turn-in time against
    // each student's own due date, at the time anyone looks).
    await teacher.getByRole('button', { name: 'Essay on consensus', exact: true }).click();
    const submissions = teacher.getByRole('table', { name: 'Submissions for Essay on consensus' });
    await expectText(submissions.getByRole('row', { name: /Ben/ }), 'Missing');
    await submissions.getByRole('button', { name: 'Ana' }).click();
    await teacher.getByText('Extension or excuse for Ana').click();
    await teacher.getByLabel('New due date for Ana').fill('2031-05-20T09:00');
    await teacher.getByRole('button', { name: 'Give extension' }).click();
    await expectText(statusBar(teacher), 'Ana now has until');
    await expectText(submissions.getByRole('row', { name: /Ana/ }), 'Assigned');
    await expectText(submissions.getByRole('row', { name: /Ben/ }), 'Missing');
    await screenshot(teacher, 'teacher-extension');
    await expectNoText(ana.getByRole('main'), 'Missing');
    await expectText(ana.getByRole('main'), 'Assigned');
    await expectText(ana.getByRole('main'), '2031');
    await screenshot(ana, 'student-todo');

    // Ana writes, attaches a file and turns in.
    await ana.getByRole('button', { name: 'Essay on consensus', exact: true }).click();
    await ana.getByRole('heading', { name: 'Essay on consensus', exact: true }).waitFor(WAIT);
    await ana.getByLabel('Your answer').fill('A majority of voters always overlaps any other majority.');
    await ana.getByRole('button', { name: 'Save draft' }).click();
    await expectText(statusBar(ana), 'Your work was saved.');
    // A file attached to the work: kept by the student's laptop, handed to the class with it,
    // sealed (150 KB: three of the sealed file's 64 KiB chunks, opened again when downloaded).
    const measurements = Buffer.from('period_s\n1.41\n1.42\n1.40\n'.repeat(6000));
    await ana.getByLabel('Attach a file').setInputFiles({ name: 'measurements.csv', mimeType: 'text/csv', buffer: measurements });
    await expectText(statusBar(ana), '“measurements.csv” was attached.');
    await ana.getByRole('list', { name: 'Attached files' }).getByRole('button', { name: 'Download measurements.csv' }).waitFor(WAIT);
    const anaAnswer = 'A majority of voters always overlaps any other majority.\nSo two leaders cannot both win a term.\nThat is why a majority is enough.';
    await ana.getByLabel('Your answer').fill(anaAnswer);
    await ana.getByRole('button', { name: 'Turn in' }).click();
    await ana.getByText('Turned in. Unsubmit it to make changes.').waitFor(WAIT);
    await ana.getByRole('button', { name: 'Unsubmit' }).waitFor(WAIT);
    await expectText(statusBar(ana), 'All changes saved');
    await screenshot(ana, 'student-assignment-turned-in');

    // Ben writes his answer and saves it, but does not turn it in yet.
    const benAnswer = 'Two majorities of the same voters always share one voter, who votes once per term.';
    await ben.getByRole('button', { name: 'Essay on consensus', exact: true }).click();
    await ben.getByRole('heading', { name: 'Essay on consensus', exact: true }).waitFor(WAIT);
    await ben.getByLabel('Your answer').fill(benAnswer);
    await ben.getByRole('button', { name: 'Save draft' }).click();
    await expectText(statusBar(ben), 'Your work was saved.');
    await expectText(statusBar(ben), 'All changes saved');

    // The leader's laptop dies (kill -9). Ben's must survive to turn in: if a stall on this busy
    // machine has moved leadership to it, a graceful stop hands leadership on first.
    let leader = await leaderOf(cluster);
    for (let attempt = 0; leader === benNode && attempt < 3; attempt++) {
      console.log('Ben’s laptop leads: stopping it gracefully so another laptop leads');
      await cluster.stop(benNode, 'SIGTERM');
      await cluster.start(benNode);
      await expectText(statusBar(ben), /Connected to Physics 3B[\s\S]*3 of 3 laptops online/);
      leader = await leaderOf(cluster);
    }
    expect(leader).not.toBe(benNode);
    const other = cluster.nodes.find((node) => node !== leader && node !== benNode)!;
    const ownerOf = new Map([
      [teacherNode, 'Ms Rivera'],
      [anaNode, 'Ana'],
    ]);
    await expectText(statusBar(ben), `Led by ${ownerOf.get(leader)}’s laptop`);
    console.log(`killing the leader, ${leader.name}`);
    await cluster.kill(leader);
    // Its own page says its laptop's Quorum is gone; the others elect a new leader, and Ben's page says so.
    await expectText(statusBar(pageOf.get(leader)!), 'Not connected to Quorum on this laptop');
    await screenshot(pageOf.get(leader)!, 'leader-laptop-down');
    await expectText(statusBar(ben), '2 of 3 laptops online');
    await expectText(statusBar(ben), new RegExp(`Connected to Physics 3B[\\s\\S]*Led by (this laptop|${ownerOf.get(other)}’s laptop)`));
    await screenshot(ben, 'student-leader-lost');

    // One death leaves a majority, and a new leader saves writes within about a second; so that
    // Ben's turn-in is sure to wait, the second of the two other laptops goes too: Ben's laptop is
    // alone, the class cannot save anything until a majority is back.
    await cluster.kill(other);
    await expectText(statusBar(ben), /Not connected to Physics 3B[\s\S]*1 of 3 laptops online/);
    await ben.getByRole('button', { name: 'Turn in' }).click();
    const benWork = ben.getByRole('region', { name: 'Your work' });
    await expectText(benWork, 'Waiting to be saved');
    await expectText(benWork, 'Turned in. Unsubmit it to make changes.');
    await expectText(statusBar(ben), '1 change waiting to be saved');
    await screenshot(ben, 'student-waiting');

    // Both laptops come back; Ben's turn-in is saved without him doing anything.
    const recoveryStarted = Date.now();
    await Promise.all([cluster.start(leader), cluster.start(other)]);
    await expectNoText(benWork, 'Waiting to be saved');
    await expectText(statusBar(ben), /Connected to Physics 3B[\s\S]*All changes saved/);
    await expectText(benWork, 'Turned in. Unsubmit it to make changes.');
    // His page says what the class decided: it came in after his due date.
    await expectText(ben.getByRole('main'), 'Turned in late');
    await screenshot(ben, 'student-saved-after-recovery');
    // Every page reconnects by itself.
    for (const page of [teacher, ana, ben]) await expectText(statusBar(page), /Connected to Physics 3B[\s\S]*3 of 3 laptops online/);

    // The class committed Ben's turn-in after recovery, and kept his own clock's time of it beside.
    const { classId } = await classStatus(teacherNode);
    const overview = await teacherNode.api.methods.classroom({ classId });
    const assignmentId = overview.assignments.find((a) => a.title === 'Essay on consensus')!.assignmentId;
    const benId = overview.members.find((m) => m.displayName === 'Ben')!.userId;
    const benSubmission = await teacherNode.api.methods.submission({ classId, assignmentId, studentId: benId });
    expect(benSubmission.status).toBe('late');
    expect(benSubmission.turnedInClientAt!).toBeLessThan(recoveryStarted);
    expect(benSubmission.turnedInAt!).toBeGreaterThanOrEqual(recoveryStarted);

    // The teacher sees Ana's work on time and Ben's late, with the time the class committed it.
    await teacher.getByRole('navigation', { name: 'Class' }).getByRole('button', { name: 'Assignments' }).click();
    await teacher.getByRole('button', { name: 'Essay on consensus', exact: true }).click();
    await expectText(submissions.getByRole('row', { name: /Ana/ }), 'Turned in');
    await expectNoText(submissions.getByRole('row', { name: /Ana/ }), 'late');
    await expectText(submissions.getByRole('row', { name: /Ben/ }), 'Turned in late');
    await teacher.getByLabel('Show').selectOption('late');
    await expectText(submissions, 'Ben');
    await expectNoneOf(submissions, ['Ana']);
    await submissions.getByRole('button', { name: 'Ben' }).click();
    const benPanel = teacher.getByRole('region', { name: 'Ben’s work' });
    await expectText(benPanel, 'Turned in late');
    await expectText(teacher.getByRole('document', { name: 'Ben’s answer' }), benAnswer);
    // The committed time, as this page writes times (the same format as renderer/src/lib/format.ts).
    const committedShown = await teacher.evaluate(
      (ms) => new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' }).format(new Date(ms)),
      benSubmission.turnedInAt!,
    );
    await expectText(benPanel, `Turned in ${committedShown}`);
    await screenshot(teacher, 'teacher-late-submission');

    // The teacher grades Ben's and returns it, then Ana's, with her file.
    await teacher.getByLabel('Score (out of 10)').fill('6');
    await teacher.getByLabel('Feedback').fill('Right idea, but a day late.');
    await teacher.getByRole('button', { name: 'Return to student' }).click();
    await expectText(benPanel, 'Returned');
    await teacher.getByLabel('Show').selectOption('turnedIn');
    await submissions.getByRole('button', { name: 'Ana' }).click();
    await expectText(teacher.getByRole('document', { name: 'Ana’s answer' }), 'A majority of voters always overlaps');
    const [attachment] = await Promise.all([
      teacher.waitForEvent('download', WAIT),
      teacher.getByRole('button', { name: 'Download measurements.csv' }).click(),
    ]);
    expect(attachment.suggestedFilename()).toBe('measurements.csv');
    expect(readFileSync(await attachment.path()).equals(measurements)).toBe(true);
    await teacher.getByLabel('Score (out of 10)').fill('8');
    await teacher.getByLabel('Feedback').fill('Clear and correct. Say what a term is.');
    await teacher.getByRole('button', { name: 'Return to student' }).click();
    await teacher.getByLabel('Show').selectOption('all');
    await expectText(submissions.getByRole('row', { name: /Ana/ }), 'Returned');
    await expectText(submissions.getByRole('row', { name: /Ana/ }), '8 / 10');
    await expectText(submissions.getByRole('row', { name: /Ben/ }), 'Returned');
    await expectText(submissions.getByRole('row', { name: /Ben/ }), '6 / 10');
    await screenshot(teacher, 'teacher-grading');

    // The private thread: the teacher writes, Ana reads it live and answers.
    await teacher.getByLabel('Write a private comment').fill('Well argued. Which term did you mean?');
    await teacher.getByRole('button', { name: 'Post comment' }).click();
    await expectText(ana.getByRole('region', { name: 'Private comments' }), 'Well argued. Which term did you mean?');
    await ana.getByLabel('Write a private comment').fill('The leader’s term.');
    await ana.getByRole('button', { name: 'Post comment' }).click();
    await expectText(teacher.getByRole('region', { name: 'Private comments' }), 'The leader’s term.');

    // Each student sees their own returned grade, live, and nothing of the other's: not on the
    // assignment, not on the grades page.
    const anaSees = { own: ['8 / 10', 'Clear and correct. Say what a term is.'], others: ['Ben', '6 / 10', 'a day late', benAnswer] };
    const benSees = { own: ['6 / 10', 'Right idea, but a day late.'], others: ['Ana', '8 / 10', 'Clear and correct', 'overlaps any other majority', 'measurements.csv', 'Which term'] };
    for (const [page, sees, name] of [
      [ana, anaSees, 'student'],
      [ben, benSees, 'student-ben'],
    ] as const) {
      const grade = page.getByRole('region', { name: 'Your grade' });
      for (const text of sees.own) await expectText(grade, text);
      await expectNoneOf(page.getByRole('main'), sees.others);
      await screenshot(page, `${name}-returned`);
      await page.getByRole('navigation', { name: 'Class' }).getByRole('button', { name: 'Grades' }).click();
      const myGrades = page.getByRole('table', { name: 'My grades' });
      await expectText(myGrades, sees.own[0]!);
      await expectText(myGrades, 'Returned');
      expect(await myGrades.locator('tbody tr').count()).toBe(1);
      await expectNoneOf(page.getByRole('main'), sees.others);
      await screenshot(page, `${name}-grades`);
    }

    // The gradebook, exported as CSV through a download.
    await teacher.getByRole('navigation', { name: 'Class' }).getByRole('button', { name: 'Grades' }).click();
    const gradebook = teacher.getByRole('region', { name: 'Gradebook' });
    await expectText(gradebook.getByRole('row', { name: /Ana/ }), '8 / 10');
    await expectText(gradebook.getByRole('row', { name: /Ben/ }), '6 / 10');
    const [download] = await Promise.all([teacher.waitForEvent('download', WAIT), teacher.getByRole('button', { name: 'Export as CSV' }).click()]);
    expect(download.suggestedFilename()).toBe('Physics 3B gradebook.csv');
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv).toBe('Student,Essay on consensus (10)\r\nAna,8\r\nBen,6\r\n');
    await screenshot(teacher, 'teacher-gradebook');

    // Two windows on the teacher's laptop edit the same assignment: the later save is refused as
    // stale, and both versions are shown side by side.
    const second = await openPage(browser, teacherNode);
    await teacher.getByRole('button', { name: 'Assignments' }).click();
    await teacher.getByRole('button', { name: 'Edit Essay on consensus' }).click();
    await teacher.getByLabel('Title').fill('Essay on majorities');
    await second.getByRole('button', { name: 'Edit Essay on consensus' }).click();
    await second.getByLabel('Points').fill('12');
    await second.getByRole('button', { name: 'Save changes' }).click();
    await second.getByRole('heading', { name: 'Assignments' }).waitFor(WAIT);
    await second.context().close();
    await teacher.getByRole('heading', { name: 'Someone changed this assignment while you were editing' }).waitFor(WAIT);
    await teacher.getByRole('button', { name: 'Save changes' }).click();
    await teacher.getByRole('heading', { name: 'Not saved: someone changed this assignment since you opened it' }).waitFor(WAIT);
    await expectText(teacher.getByRole('columnheader', { name: /Saved version/ }), 'version 2');
    await expectText(teacher.getByRole('row', { name: /^Points/ }), '12\t10');
    await expectText(teacher.getByRole('row', { name: /^Title/ }), 'Essay on consensus\tEssay on majorities');
    await screenshot(teacher, 'teacher-stale-edit');
    await teacher.getByRole('button', { name: 'Load the saved version' }).click();
    expect(await teacher.getByLabel('Title').inputValue()).toBe('Essay on consensus');
    expect(await teacher.getByLabel('Points').inputValue()).toBe('12');
    await teacher.getByRole('button', { name: 'Cancel' }).click();

    // The People page shows the join code again and both students; the network page, all three laptops.
    await teacher.getByRole('button', { name: 'People' }).click();
    await teacher.getByRole('figure', { name: 'Join code' }).waitFor(WAIT);
    for (const name of ['Ana', 'Ben']) {
      await teacher.getByRole('button', { name: `Remove ${name}` }).waitFor(WAIT);
      // When the student's laptop was last in sync, as this laptop heard it.
      await teacher.getByText(new RegExp(`${name} \\(1 laptop, in sync (just now|\\d+ seconds ago)\\)`)).waitFor(WAIT);
    }
    await screenshot(teacher, 'teacher-people');
    await teacher.getByRole('button', { name: 'Class network' }).click();
    for (const name of ['Ana', 'Ben']) await expectText(teacher.getByRole('table').getByRole('row', { name: new RegExp(name) }), 'Yes');
    await screenshot(teacher, 'teacher-network');

    // The theme toggle overrides the system's choice.
    const toggle = teacher.getByRole('button', { name: 'Dark theme' });
    await expectAttribute(toggle, 'aria-pressed', 'false');
    await toggle.click();
    await expectAttribute(toggle, 'aria-pressed', 'true');
    await expectAttribute(teacher.locator('html'), 'data-theme', 'dark');
    // Back to what the system prefers: the page follows the system again.
    await toggle.click();
    await expect.poll(() => teacher.locator('html').getAttribute('data-theme'), WAIT).toBeNull();
  }, 150_000);
});
