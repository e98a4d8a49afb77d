// A laptop left on an older Quorum, in Chromium, on real headless nodes over loopback: the teacher's
// laptop runs a Quorum with newer class rules and its class is on them; a student's laptop with
// last term's Quorum joins, stops following the class where it would differ, and its page says
// so in plain words instead of waiting silently; updated, it goes on into the class. Screenshots
// at 1366x768 go to /tmp/quorum-ui/class-rules-*.
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HeadlessCluster, type NodeHandle } from '../integration/headless-cluster';
import { ensureRendererBuilt } from './renderer-build';
import { expectNoText, expectText, launchChromium, openPage, screenshot, statusBar, WAIT } from './ui-support';

let cluster: HeadlessCluster;
let browser: Browser;
let teacherNode: NodeHandle;
let benNode: NodeHandle;
let ben: Page;

beforeAll(async () => {
  ensureRendererBuilt();
  cluster = new HeadlessCluster();
  [browser, teacherNode, benNode] = await Promise.all([launchChromium(), cluster.add('teacher-laptop', ['--class-rules', '2']), cluster.add('ben-laptop', ['--class-rules', '1'])]);
}, 120_000);

afterAll(async () => {
  await ben?.context().close().catch(() => undefined);
  await browser?.close();
  await cluster?.destroy();
});

describe('a laptop on an older Quorum', () => {
  it('says that it stopped following the class and must be updated, and carries on once it is', async () => {
    const { classId, joinCode } = await teacherNode.api.methods.createClass({ name: 'Biology 1C', subject: 'Biology', displayName: 'Ms Adeyemi' });
    await cluster.connectAll();
    await benNode.api.methods.joinClass({ joinCode, displayName: 'Ben Okafor' });
    ben = await openPage(browser, benNode);

    const alert = ben.getByRole('alert', { name: 'This laptop stopped following the class' });
    await expectText(alert, 'This laptop’s Quorum is older than the one the class now uses');
    await expectText(alert, 'Update Quorum on this laptop');
    await expectText(statusBar(ben), 'Stopped following Biology 1C');
    await expectNoText(statusBar(ben), 'No leader right now');
    await screenshot(ben, 'class-rules-stopped');
    const status = (await benNode.api.methods.status({})).classes.find((c) => c.classId === classId)!;
    expect(status.stopped).toEqual({ code: 'NEEDS_NEWER_QUORUM', message: expect.stringMatching(/older than the one the class now uses/) });

    // Last term's Quorum replaced: the same laptop, the same folder, a Quorum that knows the class's rules.
    await cluster.stop(benNode, 'SIGTERM');
    await cluster.start(benNode, ['--class-rules', '2']);
    await ben.reload();
    await ben.getByRole('heading', { name: 'To do' }).waitFor({ timeout: 40_000 });
    await expectText(statusBar(ben), 'Connected to Biology 1C');
    expect(await ben.getByRole('alert', { name: 'This laptop stopped following the class' }).count()).toBe(0);
    await screenshot(ben, 'class-rules-updated');
  }, 150_000);
});
