// What the desktop app starts its peer with, and which pages it trusts: the pure parts of the
// main process, run in Node.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isAppPage } from '../../electron/main/app-page';
import { displayName, peerArguments } from '../../electron/main/peer-launch';
import { parseArguments } from '../../electron/headless/cli';

describe('peerArguments', () => {
  it('gives the headless command line a folder of its own and the user’s name, and nothing that opens HTTP', () => {
    const args = peerArguments({ userDataDir: '/home/ana/.config/Quorum', username: 'ana', hostname: 'ROOM12-PC07' });
    expect(args).toEqual(['--data-dir', join('/home/ana/.config/Quorum', 'peer'), '--name', 'ana on ROOM12-PC07']);
    // The command line the peer process parses is the headless node's own.
    expect(parseArguments(args)).toMatchObject({ kind: 'run', options: { discovery: true, httpApi: false, name: 'ana on ROOM12-PC07' } });
  });
});

describe('displayName', () => {
  it.each<[string | null, string, string]>([
    ['ana', 'ROOM12-PC07', 'ana on ROOM12-PC07'],
    [' ana ', ' ROOM12-PC07 ', 'ana on ROOM12-PC07'],
    [null, 'ROOM12-PC07', 'ROOM12-PC07'],
    ['', 'ROOM12-PC07', 'ROOM12-PC07'],
    ['ana', '', 'ana'],
    [null, '', 'Quorum laptop'],
  ])('user %j on host %j is shown as %j', (username, hostname, shown) => {
    expect(displayName({ username, hostname })).toBe(shown);
  });
});

describe('isAppPage', () => {
  const built = 'file:///opt/Quorum/resources/app/out/renderer/index.html';
  const dev = 'http://localhost:5173/';

  it.each<[string, string, boolean]>([
    ['file:///opt/Quorum/resources/app/out/renderer/index.html', built, true],
    ['file:///opt/Quorum/resources/app/out/renderer/index.html#/class/1', built, true],
    ['file:///opt/Quorum/resources/app/out/renderer/other.html', built, false],
    ['file:///etc/passwd', built, false],
    ['file://evil.example/opt/Quorum/resources/app/out/renderer/index.html', built, false],
    ['http://localhost:5173/', built, false],
    ['http://localhost:5173/src/App.svelte', dev, true],
    ['http://localhost:5174/', dev, false],
    ['https://localhost:5173/', dev, false],
    ['https://example.org/', dev, false],
    ['not a url', built, false],
    ['', dev, false],
  ])('%j is the app’s page (app at %j): %s', (url, appUrl, expected) => {
    expect(isAppPage(url, appUrl)).toBe(expected);
  });
});
