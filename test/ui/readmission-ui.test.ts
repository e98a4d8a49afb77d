// Re-admitting a student who lost their laptop, from the People page, in Chromium, on real
// headless nodes on loopback: Ana's work was turned in, graded and returned; she joined again
// from a new laptop (as "Ana (new laptop)"); the teacher says on the People page that this new
// member is Ana, reads what that does and confirms. The class then has one Ana, and the new
// laptop's page, open all along, shows her as Ana and opens her work and feedback without a
// reload. Screenshots at 1366x768, light and dark, go to /tmp/quorum-ui/readmission-*.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, HeadlessCluster, type NodeHandle } from '../integration/headless-cluster';
import { ensureRendererBuilt } from './renderer-build';
import { expectNoText, expectText, launchChromium, openPage, screenshot, statusBar, WAIT } from './ui-support';

const TEXT = 'Ana-otter-5150: the period grows with the length';
const FEEDBACK = 'Rivera-plover-3307: well argued';

let cluster: HeadlessCluster;
let browser: Browser;
let teacherNode: NodeHandle;
let newAnaNode: NodeHandle;
let teacher: Page;
let newAna: Page;

const shot = (page: Page, name: string) => screenshot(page, `readmission-${name}`);

beforeAll(async () => {
  ensureRendererBuilt();
  cluster = new HeadlessCluster();
  let anaNode: NodeHandle;
  [browser, teacherNode, anaNode, newAnaNode] = await Promise.all([launchChromium(), cluster.add('teacher-laptop'), cluster.add('ana-laptop'), cluster.add('ana-new-laptop')]);
  const { classId, joinCode } = await teacherNode.api.methods.createClass({ name: 'Physics 3', displayName: 'Ms Rivera' });
  await cluster.connectAll();
  await anaNode.api.methods.joinClass({ joinCode, displayName: 'Ana' });
  const anaId = await eventually('Ana registered', async () => {
    const { me } = await anaNode.api.methods.classroom({ classId });
    return me.role === 'student' && me.userId;
  }, 40_000);
  // Her work, graded and returned, through the API (the classroom UI test covers doing it in the page).
  const submit = async (node: NodeHandle, command: Parameters<NodeHandle['api']['methods']['submitCommand']>[0]['command']) => {
    const outcome = await node.api.methods.submitCommand({ classId, command, waitMs: 15_000 });
    if (outcome.status !== 'applied' || outcome.result.status !== 'applied') throw new Error(`not applied: ${JSON.stringify(outcome)}`);
  };
  await submit(teacherNode, { type: 'createAssignment', assignmentId: 'lab-pendulum', title: 'Pendulum lab', instructions: '', pointsPossible: 20, dueAt: null, cutOffAt: null, materials: [], published: true });
  await eventually('the lab on Ana’s laptop', async () => (await anaNode.api.methods.classroom({ classId })).assignments.length === 1);
  await submit(anaNode, { type: 'saveDraft', assignmentId: 'lab-pendulum', baseVersion: 0, text: TEXT, files: [] });
  await submit(anaNode, { type: 'turnIn', assignmentId: 'lab-pendulum' });
  await submit(teacherNode, { type: 'grade', assignmentId: 'lab-pendulum', studentId: anaId, baseVersion: 0, score: 18, feedback: FEEDBACK });
  await submit(teacherNode, { type: 'returnGrade', assignmentId: 'lab-pendulum', studentId: anaId });
  // Ana joins again from a new laptop. (Her old one stays up here: with two laptops the class
  // needs both to save; test/peer/readmission.test.ts kills it and deletes its folder.)
  await newAnaNode.api.methods.joinClass({ joinCode, displayName: 'Ana (new laptop)' });
  await eventually('the new laptop registered', async () => (await newAnaNode.api.methods.classroom({ classId })).me.role === 'student', 40_000);
  [teacher, newAna] = await Promise.all([openPage(browser, teacherNode), openPage(browser, newAnaNode)]);
  await Promise.all([teacher.getByRole('heading', { name: 'Assignments', exact: true }).waitFor(WAIT), newAna.getByRole('heading', { name: 'To do', exact: true }).waitFor(WAIT)]);
}, 180_000);

afterAll(async () => {
  for (const page of [teacher, newAna]) await page?.context().close().catch(() => undefined);
  await browser?.close();
  await cluster?.destroy();
});

describe('re-admitting a student who lost their laptop', () => {
  it('is said on the People page, confirmed in a sentence, and the new laptop becomes the student without a reload', async () => {
    await expectText(newAna.getByRole('banner'), 'Ana (new laptop)');
    await teacher.getByRole('button', { name: 'People' }).click();
    const students = teacher.getByRole('region', { name: /Students/ });
    await expectText(students, 'Ana (new laptop)');
    await teacher.getByRole('button', { name: /^Lost laptop\W+Ana \(new laptop\) is a student who lost theirs$/ }).click();
    const form = teacher.getByRole('group', { name: 'Re-admit a student on Ana (new laptop)’s laptop' });
    await form.getByLabel('Ana (new laptop) is a student who lost their laptop').selectOption({ label: 'Ana (1 laptop)' });
    await expectText(form, 'Ana (new laptop) becomes Ana: their work, grades, feedback and comments open on the new laptop.');
    await expectText(form, 'nothing it sends is accepted any more');
    await shot(teacher, 'confirm');
    await form.getByRole('button', { name: 'Yes, re-admit Ana' }).click();

    await expectText(statusBar(teacher), 'Ana is back in the class on their new laptop.');
    await expectNoText(students, 'Ana (new laptop)');
    await expectText(students, 'Ana');
    expect(await students.getByRole('listitem').count()).toBe(1);
    await shot(teacher, 'people');

    // The new laptop's page, open all along: Ana now, with her work and returned feedback.
    await expectNoText(newAna.getByRole('banner'), 'Ana (new laptop)');
    await expectText(newAna.getByRole('banner'), 'Ana');
    await newAna.getByRole('button', { name: 'Pendulum lab', exact: true }).click();
    await expectText(newAna.getByRole('document', { name: 'Your answer' }), TEXT);
    await expectText(newAna.getByRole('main'), FEEDBACK);
    await shot(newAna, 'student');
  }, 120_000);
});
