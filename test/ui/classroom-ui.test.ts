// The classroom UI end to end, in Chromium, against two real headless nodes on loopback, each
// serving the built page at its API origin. A teacher creates a class in the page, a student's
// laptop joins through its own page (adding the teacher's laptop by address, as where the
// network blocks discovery), and the class runs: an assignment written, seen live by the
// student, turned in, graded and returned; the gradebook exported; a change made while the class
// can't be reached shown waiting, then saved. Controls are found by role and label, so the test
// also proves they are labelled. Screenshots at 1366x768, light and dark, go to /tmp/quorum-ui/.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadlessCluster, type NodeHandle } from '../integration/headless-cluster';
import { ensureRendererBuilt } from './renderer-build';

const SHOTS = '/tmp/quorum-ui';
const VIEWPORT = { width: 1366, height: 768 };
/** Long enough for a slow 2-core machine; every wait ends as soon as its condition holds. */
const WAIT = { timeout: 20_000 };

let cluster: HeadlessCluster;
let browser: Browser;
const contexts: BrowserContext[] = [];

/** Debian's Chromium (.ci/run installs it); the test drives a real browser or fails saying why. */
const CHROMIUM = '/usr/bin/chromium';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`The UI test needs Chromium at ${CHROMIUM}: install it with "apt-get install chromium".`);
  mkdirSync(SHOTS, { recursive: true });
  ensureRendererBuilt();
  cluster = new HeadlessCluster();
  [browser] = await Promise.all([
    chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] }),
    cluster.add('teacher-laptop'),
    cluster.add('student-laptop'),
  ]);
}, 90_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await cluster?.destroy();
});

/** The page a node serves, opened with its token, as the node's ready line prints it. */
async function openPage(node: NodeHandle): Promise<Page> {
  const ready = node.lines.find((line) => line.startsWith('quorum-node ready '));
  if (!ready) throw new Error(`${node.name} printed no ready line`);
  const { api, token } = JSON.parse(ready.slice('quorum-node ready '.length)) as { api: string; token: string };
  expect(new URL(api).hostname).toBe('127.0.0.1');
  const context = await browser.newContext({ viewport: VIEWPORT, colorScheme: 'light', acceptDownloads: true });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error(`${node.name} page error:`, error.message));
  await page.goto(`${api}/#token=${token}`);
  return page;
}

/** The status bar's text. */
function statusBar(page: Page): Locator {
  return page.getByRole('contentinfo', { name: 'Class status' });
}

/** Waits until `locator`'s text contains `text` (vitest has no Playwright matchers; this is theirs, small). */
async function expectText(locator: Locator, text: string | RegExp): Promise<void> {
  // Each read gives up quickly, so the poll (not one read) decides when to stop waiting.
  const check = expect.poll(() => locator.innerText({ timeout: 1000 }).catch(() => ''), WAIT);
  await (typeof text === 'string' ? check.toContain(text) : check.toMatch(text));
}

async function expectAttribute(locator: Locator, name: string, value: string): Promise<void> {
  await expect.poll(() => locator.getAttribute(name), WAIT).toBe(value);
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.emulateMedia({ colorScheme: 'light' });
  await page.screenshot({ path: `${SHOTS}/${name}-light.png` });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: `${SHOTS}/${name}-dark.png` });
  await page.emulateMedia({ colorScheme: 'light' });
}

describe('the classroom UI', () => {
  it('runs a class from creation to a returned grade, live on both laptops', async () => {
    const [teacherNode, studentNode] = cluster.nodes as [NodeHandle, NodeHandle];
    const [teacher, student] = await Promise.all([openPage(teacherNode), openPage(studentNode)]);

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

    // The student's laptop: add the teacher's laptop by address, join with the code, watch it progress.
    await student.getByRole('button', { name: /I’m a student/ }).click();
    await student.getByText('The class is not found?').click();
    await student.getByLabel('Laptop address').fill(`${teacherNode.laptopId}@127.0.0.1:${teacherNode.transportPort}`);
    await student.getByRole('button', { name: 'Add laptop' }).click();
    await student.getByText('Added.').waitFor(WAIT);
    // A mistyped code is explained in a sentence.
    await student.getByLabel('Join code').fill('ABCD-EFGH');
    await student.getByLabel('Your name').fill('Ana');
    await student.getByRole('button', { name: 'Join the class' }).click();
    await expectText(student.getByRole('alert'), 'That join code is not right.');
    await student.getByLabel('Join code').fill(joinCode.toLowerCase());
    await student.getByRole('button', { name: 'Join the class' }).click();
    await student.getByRole('heading', { name: 'To do' }).waitFor({ timeout: 30_000 });
    await expectText(statusBar(student), /Connected to Physics 3B[\s\S]*Led by Ms Rivera’s laptop[\s\S]*2 of 2 laptops online/);
    await expectText(statusBar(teacher), '2 of 2 laptops online');

    // The teacher writes an assignment; the student's page shows it without reloading.
    await teacher.getByRole('button', { name: 'New assignment' }).click();
    await teacher.getByLabel('Title').fill('Essay on consensus');
    await teacher.getByLabel('Instructions', { exact: true }).fill('# Task\nExplain in **three** sentences why a *majority* is enough.\n- Use your own words\n- No more than 100 words');
    await teacher.getByLabel('Points').fill('10');
    await teacher.getByLabel('Due', { exact: true }).fill('2031-05-20T09:00');
    await teacher.getByRole('region', { name: 'Preview of the instructions' }).getByRole('heading', { name: 'Task' }).waitFor(WAIT);
    await screenshot(teacher, 'assignment-editor');
    await teacher.getByRole('button', { name: 'Create assignment' }).click();
    await teacher.getByRole('button', { name: 'Essay on consensus', exact: true }).waitFor(WAIT);
    const created = Date.now();
    await student.getByRole('button', { name: 'Essay on consensus', exact: true }).waitFor(WAIT);
    console.log(`the new assignment appeared on the student's page ${Date.now() - created} ms after the teacher's page listed it`);
    await screenshot(teacher, 'teacher-assignments');
    await screenshot(student, 'student-todo');

    // The student writes and turns in.
    await student.getByRole('button', { name: 'Essay on consensus', exact: true }).click();
    await student.getByRole('heading', { name: 'Essay on consensus', exact: true }).waitFor(WAIT);
    await student.getByLabel('Your answer').fill('A majority of voters always overlaps any other majority.');
    await student.getByRole('button', { name: 'Save draft' }).click();
    await expectText(statusBar(student), 'Your work was saved.');
    // A file attached to the work: kept by the student's laptop, handed to the class with it.
    const measurements = Buffer.from('period_s\n1.41\n1.42\n1.40\n'.repeat(2000));
    await student.getByLabel('Attach a file').setInputFiles({ name: 'measurements.csv', mimeType: 'text/csv', buffer: measurements });
    await expectText(statusBar(student), '“measurements.csv” was attached.');
    await student.getByRole('list', { name: 'Attached files' }).getByRole('button', { name: 'Download measurements.csv' }).waitFor(WAIT);
    await student.getByLabel('Your answer').fill('A majority of voters always overlaps any other majority.\nSo two leaders cannot both win a term.\nThat is why a majority is enough.');
    await student.getByRole('button', { name: 'Turn in' }).click();
    await student.getByText('Turned in. Unsubmit it to make changes.').waitFor(WAIT);
    await student.getByRole('button', { name: 'Unsubmit' }).waitFor(WAIT);
    await expectText(statusBar(student), 'All changes saved');
    await screenshot(student, 'student-assignment-turned-in');

    // The teacher sees it turned in, grades it and returns it.
    await teacher.getByRole('button', { name: 'Essay on consensus', exact: true }).click();
    const submissions = teacher.getByRole('table', { name: 'Submissions for Essay on consensus' });
    await expectText(submissions.getByRole('row', { name: /Ana/ }), 'Turned in');
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
    await screenshot(teacher, 'teacher-grading');

    // The private thread: the teacher writes, the student reads it live and answers.
    await teacher.getByLabel('Write a private comment').fill('Well argued. Which term did you mean?');
    await teacher.getByRole('button', { name: 'Post comment' }).click();
    const studentThread = student.getByRole('region', { name: 'Private comments' });
    await expectText(studentThread, 'Well argued. Which term did you mean?');
    await student.getByLabel('Write a private comment').fill('The leader’s term.');
    await student.getByRole('button', { name: 'Post comment' }).click();
    await expectText(teacher.getByRole('region', { name: 'Private comments' }), 'The leader’s term.');

    // The student sees the returned grade, live.
    const grade = student.getByRole('region', { name: 'Your grade' });
    await expectText(grade, '8 / 10');
    await expectText(grade, 'Clear and correct. Say what a term is.');
    await screenshot(student, 'student-returned');
    await student.getByRole('navigation', { name: 'Class' }).getByRole('button', { name: 'Grades' }).click();
    await expectText(student.getByRole('table', { name: 'My grades' }), '8 / 10');
    await screenshot(student, 'student-grades');

    // The gradebook, exported as CSV through a download.
    await teacher.getByRole('navigation', { name: 'Class' }).getByRole('button', { name: 'Grades' }).click();
    await expectText(teacher.getByRole('region', { name: 'Gradebook' }).getByRole('row', { name: /Ana/ }), '8 / 10');
    const [download] = await Promise.all([teacher.waitForEvent('download', WAIT), teacher.getByRole('button', { name: 'Export as CSV' }).click()]);
    expect(download.suggestedFilename()).toBe('Physics 3B gradebook.csv');
    const csv = readFileSync(await download.path(), 'utf8');
    expect(csv).toBe('Student,Essay on consensus (10)\r\nAna,8\r\n');
    await screenshot(teacher, 'teacher-gradebook');

    // Two windows on the teacher's laptop edit the same assignment: the later save is refused as
    // stale, and both versions are shown side by side.
    const other = await openPage(teacherNode);
    await teacher.getByRole('button', { name: 'Assignments' }).click();
    await teacher.getByRole('button', { name: 'Edit Essay on consensus' }).click();
    await teacher.getByLabel('Title').fill('Essay on majorities');
    await other.getByRole('button', { name: 'Edit Essay on consensus' }).click();
    await other.getByLabel('Points').fill('12');
    await other.getByRole('button', { name: 'Save changes' }).click();
    await other.getByRole('heading', { name: 'Assignments' }).waitFor(WAIT);
    await other.context().close();
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

    // The People page shows the join code again; the network page shows both laptops.
    await teacher.getByRole('button', { name: 'People' }).click();
    await teacher.getByRole('figure', { name: 'Join code' }).waitFor(WAIT);
    await teacher.getByRole('button', { name: 'Remove Ana' }).waitFor(WAIT);
    // When Ana's laptop was last in sync, as this laptop heard it.
    await teacher.getByText(/Ana \(1 laptop, in sync (just now|\d+ seconds ago)\)/).waitFor(WAIT);
    await screenshot(teacher, 'teacher-people');
    await teacher.getByRole('button', { name: 'Class network' }).click();
    await expectText(teacher.getByRole('table').getByRole('row', { name: /Ana/ }), 'Yes');
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

    // The student's laptop goes away: with 2 voters, the class can't save. A change made now
    // shows at once, waits, and is saved when the laptop is back.
    await cluster.kill(studentNode);
    await expectText(statusBar(teacher), '1 of 2 laptops online');
    await expectText(statusBar(student), 'Not connected to Quorum on this laptop');
    await teacher.getByRole('button', { name: 'Assignments' }).click();
    await teacher.getByRole('button', { name: 'New assignment' }).click();
    await teacher.getByLabel('Title').fill('Lab report');
    await teacher.getByRole('button', { name: 'Create assignment' }).click();
    const waitingRow = teacher.getByRole('row', { name: /Lab report/ });
    await expectText(waitingRow, 'Waiting to be saved');
    await expectText(statusBar(teacher), /1 change waiting to be saved/);
    await screenshot(teacher, 'teacher-waiting');
    await cluster.start(studentNode);
    await teacher.getByRole('button', { name: 'Lab report', exact: true }).waitFor({ timeout: 30_000 });
    await expect.poll(() => waitingRow.innerText(), WAIT).not.toContain('Waiting to be saved');
    await expectText(statusBar(teacher), /All changes saved/);
    // The student's page reconnects by itself and shows the new assignment.
    await student.getByRole('button', { name: 'To do' }).click();
    await student.getByRole('button', { name: 'Lab report', exact: true }).waitFor({ timeout: 30_000 });
  }, 120_000);
});
