// Class backups end to end, in Chromium, on real headless nodes on loopback serving the built
// page: a teacher backs up a class (an assignment, a student's work, a returned grade) into a
// folder through the Backups page, after a too-short passphrase is refused with a sentence; sets
// automatic backups every minute (a folder that is not there is refused), sees the first one
// made, then the next fail when the folder is gone (a USB stick taken out), and turns them off.
// On a spare laptop in no class, "Restore a class from a backup" refuses a wrong passphrase with
// a sentence, then, with the right one, opens the class there: its teacher sees the assignment
// and the gradebook with the grade. Controls are found by role and label. Screenshots at
// 1366x768, light and dark, go to /tmp/quorum-ui/backup-*.
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClassroomCommand } from '../../shared/classroom/commands';
import { eventually, HeadlessCluster, type NodeHandle } from '../integration/headless-cluster';
import { ensureRendererBuilt } from './renderer-build';
import { expectText, launchChromium, openPage, screenshot, statusBar, WAIT } from './ui-support';

const PASSPHRASE = 'seven green pendulums swing';
/** A "minute" of the backup schedule, shortened for the test (--backup-minute-ms): the page still says "every minute". */
const MINUTE_MS = 5_000;

let cluster: HeadlessCluster;
let browser: Browser;
let teacherNode: NodeHandle;
let anaNode: NodeHandle;
let teacher: Page;
let classId: string;
/** The "USB stick": the folder backups are written to. */
let usb: string;
let manualBackup: string;
let autoFolder: string;
let scheduledAt = 0;

const shot = (page: Page, name: string) => screenshot(page, `backup-${name}`);
const backupFiles = (folder: string) => readdirSync(folder).filter((name) => name.endsWith('.quorum-backup'));

async function applied(node: NodeHandle, command: ClassroomCommand): Promise<void> {
  const outcome = await node.api.methods.submitCommand({ classId, command, waitMs: 10_000 });
  if (outcome.status !== 'applied' || outcome.result.status !== 'applied') throw new Error(`not applied: ${JSON.stringify(outcome)}`);
}

/** Fill a passphrase and its confirmation in `form`. */
async function typePassphrase(form: Locator, passphrase: string, confirmation = passphrase): Promise<void> {
  await form.getByLabel('Passphrase', { exact: true }).fill(passphrase);
  await form.getByLabel('Type the passphrase again').fill(confirmation);
}

beforeAll(async () => {
  ensureRendererBuilt();
  usb = mkdtempSync(join(tmpdir(), 'quorum-usb-'));
  autoFolder = join(usb, 'automatic');
  mkdirSync(autoFolder);
  cluster = new HeadlessCluster({ nodeArgs: ['--backup-minute-ms', String(MINUTE_MS)] });
  [browser, teacherNode, anaNode] = await Promise.all([launchChromium(), cluster.add('teacher-laptop'), cluster.add('ana-laptop')]);
  // The class and its work are made through the API (the other UI tests make them in the page).
  const created = await teacherNode.api.methods.createClass({ name: 'Physics 3', subject: 'Physics', displayName: 'Ms Rivera' });
  classId = created.classId;
  await cluster.connectAll();
  await anaNode.api.methods.joinClass({ joinCode: created.joinCode, displayName: 'Ana' });
  await eventually('Ana registered', async () => (await anaNode.api.methods.classroom({ classId })).me.role === 'student', 40_000);
  await applied(teacherNode, {
    type: 'createAssignment',
    assignmentId: 'pendulum-lab',
    title: 'Pendulum lab',
    instructions: 'Time ten swings and report the period.',
    pointsPossible: 20,
    dueAt: Date.now() + 7 * 86_400_000,
    cutOffAt: null,
    materials: [],
    published: true,
  });
  await eventually('the assignment on Ana’s laptop', async () => (await anaNode.api.methods.classroom({ classId })).assignments.length === 1);
  await applied(anaNode, { type: 'saveDraft', assignmentId: 'pendulum-lab', baseVersion: 0, text: 'The period is 1.42 s.', files: [] });
  await applied(anaNode, { type: 'turnIn', assignmentId: 'pendulum-lab' });
  const anaId = (await anaNode.api.methods.classroom({ classId })).me.userId;
  await eventually('the turn-in on the teacher’s laptop', async () => (await teacherNode.api.methods.submission({ classId, assignmentId: 'pendulum-lab', studentId: anaId })).turnedIn);
  await applied(teacherNode, { type: 'grade', assignmentId: 'pendulum-lab', studentId: anaId, baseVersion: 0, score: 18, feedback: 'Careful timing.' });
  await applied(teacherNode, { type: 'returnGrade', assignmentId: 'pendulum-lab', studentId: anaId });
  teacher = await openPage(browser, teacherNode);
  await teacher.getByRole('heading', { name: 'Assignments' }).waitFor(WAIT);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await cluster?.destroy();
  if (usb) rmSync(usb, { recursive: true, force: true });
});

describe('class backups in the UI', () => {
  it('backs the class up into a folder, after refusing a too-short passphrase with a sentence', async () => {
    await teacher.getByRole('navigation', { name: 'Class' }).getByRole('button', { name: 'Backups' }).click();
    await teacher.getByRole('heading', { name: 'Backups', level: 1 }).waitFor(WAIT);
    const form = teacher.getByRole('form', { name: 'Back up now' });
    await expectText(form, 'without it the backup can’t be opened');
    await form.getByLabel('Backup folder').fill(usb);

    await typePassphrase(form, 'too short');
    await form.getByRole('button', { name: 'Back up now' }).click();
    await expectText(form.getByRole('alert'), 'The passphrase must be at least 12 characters long (this one has 9)');
    await shot(teacher, 'short-passphrase');
    await typePassphrase(form, PASSPHRASE, `${PASSPHRASE}s`);
    await form.getByRole('button', { name: 'Back up now' }).click();
    await expectText(form.getByRole('alert'), 'The two passphrases are not the same.');
    expect(backupFiles(usb)).toEqual([]);

    // Whether the page showed the backup under way: it may take less time than a poll does, so
    // the page itself notes every moment a progress bar was on screen (a script: no DOM types here).
    await teacher.evaluate(`(() => {
      window.progressSeen = [];
      new MutationObserver(() => {
        const bar = document.querySelector('progress[aria-label="Backing up the class"]');
        if (bar) window.progressSeen.push(bar.parentElement.textContent);
      }).observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
    })()`);
    await typePassphrase(form, PASSPHRASE);
    await form.getByRole('button', { name: 'Back up now' }).click();
    const outcome = form.getByRole('status').filter({ hasText: 'Backed up to' });
    await outcome.waitFor(WAIT);
    expect(await form.getByRole('alert').count()).toBe(0);

    const [name] = backupFiles(usb);
    expect(name).toMatch(/^Physics 3 .*\.quorum-backup$/);
    manualBackup = join(usb, name!);
    const bytes = statSync(manualBackup).size;
    const shown = await outcome.innerText();
    expect(shown).toContain(`Backed up to ${manualBackup} (`);
    // The size as shown ("48 KB"), read back, is the file's size to the precision shown.
    const [, amount, unit] = /\((\d+(?:\.\d+)?) (bytes|KB|MB)\)/.exec(shown) ?? [];
    const scale = { bytes: 1, KB: 1000, MB: 1_000_000 }[unit as 'bytes' | 'KB' | 'MB'];
    expect(Math.abs(Number(amount) * scale - bytes)).toBeLessThanOrEqual(scale);
    const progressSeen = (await teacher.evaluate('window.progressSeen')) as string[];
    expect(progressSeen.length).toBeGreaterThan(0);
    expect(progressSeen.every((text) => text.includes('Backing up the class'))).toBe(true);
    await shot(teacher, 'backed-up');
  }, 60_000);

  it('sets automatic backups every minute, after refusing a folder that is not there', async () => {
    const form = teacher.getByRole('form', { name: 'Automatic backup settings' });
    const status = teacher.getByRole('status', { name: 'Automatic backups status' });
    await expectText(status, 'Automatic backups are off.');
    await form.getByLabel('Folder for automatic backups').fill(join(usb, 'stick-not-plugged-in'));
    await form.getByLabel('Every (minutes)').fill('1');
    await form.getByLabel('Backups to keep').fill('3');
    await typePassphrase(form, PASSPHRASE);
    await form.getByRole('button', { name: 'Turn on automatic backups' }).click();
    await expectText(form.getByRole('alert'), `The backup folder “${join(usb, 'stick-not-plugged-in')}” can’t be found. If it is on a USB stick`);
    await expectText(status, 'Automatic backups are off.');

    await form.getByLabel('Folder for automatic backups').fill(autoFolder);
    // The passphrase fields were kept: the refusal was about the folder.
    await form.getByRole('button', { name: 'Turn on automatic backups' }).click();
    scheduledAt = Date.now();
    await expectText(status, `Automatic backups are on: every minute into ${autoFolder}, keeping the last 3.`);
    await expectText(status, 'No automatic backup has been made yet.');
    await expectText(status, 'Next backup:');
    await expectText(statusBar(teacher), 'Automatic backups are on: every minute.');
    expect(await form.getByRole('alert').count()).toBe(0);
    // The form now changes the settings, and can turn them off.
    await form.getByRole('button', { name: 'Save the new settings' }).waitFor(WAIT);
    await form.getByRole('button', { name: 'Turn automatic backups off' }).waitFor(WAIT);
    const saved = await teacherNode.api.methods.backupStatus({ classId });
    expect(saved.schedule).toEqual({ folder: autoFolder, everyMinutes: 1, keep: 3 });
    await shot(teacher, 'schedule-on');
  }, 60_000);

  it('restores the class on a laptop in no class, refusing a wrong passphrase with a sentence, and opens it there', async () => {
    const spareNode = await cluster.add('spare-laptop');
    const spare = await openPage(browser, spareNode);
    await spare.getByRole('heading', { name: 'Welcome to Quorum' }).waitFor(WAIT);
    await shot(spare, 'welcome');
    await spare.getByRole('button', { name: /Restore a class from a backup/ }).click();
    const form = spare.getByRole('form', { name: 'Restore a class from a backup' });
    await form.getByLabel('Backup file').fill(manualBackup);
    await form.getByLabel('Passphrase').fill('not the passphrase at all');
    await form.getByRole('button', { name: 'Restore the class' }).click();
    await expectText(form.getByRole('alert'), 'This is not the passphrase the backup was made with. Nothing was changed');
    expect((await spareNode.api.methods.status({})).classes).toEqual([]);
    await shot(spare, 'restore-wrong-passphrase');

    // From the keyboard this time: Enter in the passphrase field restores.
    await form.getByLabel('Passphrase').fill(PASSPHRASE);
    await form.getByLabel('Passphrase').press('Enter');
    await spare.getByRole('heading', { name: 'Assignments' }).waitFor({ timeout: 60_000 });
    await expectText(statusBar(spare), 'The class was restored on this laptop.');
    await expectText(spare.getByRole('banner'), 'Physics 3');
    await expectText(spare.getByRole('banner'), 'Ms Rivera (teacher)');
    await spare.getByRole('button', { name: 'Pendulum lab', exact: true }).waitFor(WAIT);
    await shot(spare, 'restored-assignments');

    await spare.getByRole('navigation', { name: 'Class' }).getByRole('button', { name: 'Grades' }).click();
    const gradebook = spare.getByRole('region', { name: 'Gradebook' });
    const anaRow = gradebook.getByRole('row', { name: /Ana/ });
    await expectText(anaRow, '18 / 20');
    await expectText(anaRow, 'Returned');
    await shot(spare, 'restored-gradebook');

    // The same class, run by the spare laptop alone: not joined to the teacher's laptops.
    const [restored] = (await spareNode.api.methods.status({})).classes;
    expect(restored?.classId).toBe(classId);
    expect(restored?.voters).toEqual([spareNode.laptopId]);
  }, 120_000);

  it('shows the automatic backup made, why the next one failed when the folder is gone, and turns them off', async () => {
    const status = teacher.getByRole('status', { name: 'Automatic backups status' });
    // The first is due a minute after the schedule was set.
    await expect
      .poll(() => status.innerText({ timeout: 1000 }).catch(() => ''), { timeout: scheduledAt + 2 * MINUTE_MS - Date.now(), interval: 500 })
      .toContain('Last backup:');
    const [made] = backupFiles(autoFolder);
    expect(made).toBeDefined();
    await expectText(status, join(autoFolder, made!));
    await shot(teacher, 'schedule-last-backup');

    // The stick is taken out: the next backup fails, and the page says why, from the peer's event.
    rmSync(autoFolder, { recursive: true, force: true });
    await expect
      .poll(() => status.innerText({ timeout: 1000 }).catch(() => ''), { timeout: 2 * MINUTE_MS, interval: 500 })
      .toContain(`failed. The backup folder “${autoFolder}” can’t be found. If it is on a USB stick, check that the stick is plugged in`);
    // The last good one is still shown.
    await expectText(status, `Last backup:`);
    await shot(teacher, 'schedule-failed');

    await teacher.getByRole('form', { name: 'Automatic backup settings' }).getByRole('button', { name: 'Turn automatic backups off' }).click();
    await expectText(status, 'Automatic backups are off.');
    expect((await teacherNode.api.methods.backupStatus({ classId })).schedule).toBeNull();
    await shot(teacher, 'schedule-off');
  }, 5 * MINUTE_MS);
});
