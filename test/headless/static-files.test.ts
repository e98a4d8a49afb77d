// The built renderer served at `/`: the right types and caching, and nothing outside its folder.
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodePathSegments, PAGE_CONTENT_SECURITY_POLICY } from '../../electron/headless/static-files';
import { rawRequest, startTestServer, type TestServer } from './support';

const SECRET = 'the-secret-outside-the-site';
let directory: string;
let test: TestServer;

beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'quorum-static-'));
  const site = join(directory, 'site');
  await mkdir(join(site, 'assets'), { recursive: true });
  await mkdir(join(site, 'empty-folder'));
  await writeFile(join(site, 'index.html'), '<!doctype html><title>Quorum</title>');
  await writeFile(join(site, 'assets', 'index-Abc123.js'), 'console.log("quorum")');
  await writeFile(join(site, 'assets', 'index-Def456.css'), 'body{}');
  await writeFile(join(site, 'assets', 'icon.svg'), '<svg/>');
  await writeFile(join(site, 'assets', 'data.bin'), Buffer.from([1, 2, 3]));
  await writeFile(join(site, '.env'), SECRET);
  await writeFile(join(directory, 'secret.txt'), SECRET);
  await symlink(join(directory, 'secret.txt'), join(site, 'escape.txt'));
  await symlink(directory, join(site, 'escape-folder'));
  test = await startTestServer({ staticDir: site });
});

afterAll(async () => {
  await test.close();
  await rm(directory, { recursive: true, force: true });
});

describe('static files', () => {
  it.each([
    ['/', 'text/html; charset=utf-8', 'no-cache', '<!doctype html><title>Quorum</title>'],
    ['/index.html', 'text/html; charset=utf-8', 'no-cache', '<!doctype html><title>Quorum</title>'],
    ['/assets/index-Abc123.js', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable', 'console.log("quorum")'],
    ['/assets/index-Def456.css', 'text/css; charset=utf-8', 'public, max-age=31536000, immutable', 'body{}'],
    ['/assets/icon.svg', 'image/svg+xml', 'public, max-age=31536000, immutable', '<svg/>'],
    ['/assets/data.bin', 'application/octet-stream', 'public, max-age=31536000, immutable', '\u0001\u0002\u0003'],
    ['/index.html?v=2', 'text/html; charset=utf-8', 'no-cache', '<!doctype html><title>Quorum</title>'],
    ['/assets/index%2DAbc123.js', 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable', 'console.log("quorum")'],
  ])('serves %s', async (path, type, cache, body) => {
    const raw = await rawRequest(test.server.url, { path });
    expect(raw.status).toBe(200);
    expect(raw.headers['content-type']).toBe(type);
    expect(raw.headers['cache-control']).toBe(cache);
    expect(raw.headers['content-security-policy']).toBe(PAGE_CONTENT_SECURITY_POLICY);
    expect(raw.headers['x-content-type-options']).toBe('nosniff');
    expect(raw.headers['access-control-allow-origin']).toBeUndefined();
    expect(raw.text).toBe(body);
  });

  it('answers HEAD with the headers only', async () => {
    const raw = await rawRequest(test.server.url, { method: 'HEAD', path: '/' });
    expect(raw.status).toBe(200);
    expect(raw.headers['content-length']).toBe(String('<!doctype html><title>Quorum</title>'.length));
    expect(raw.text).toBe('');
  });

  it.each([
    '/../package.json',
    '/../secret.txt',
    '/..%2fsecret.txt',
    '/..%2Fsecret.txt',
    '/%2e%2e/secret.txt',
    '/%2E%2E/secret.txt',
    '/%2e%2e%2fsecret.txt',
    '/assets/../../secret.txt',
    '/assets/%2e%2e/%2e%2e/secret.txt',
    '/..%5csecret.txt',
    '/..\\secret.txt',
    '/%252e%252e/secret.txt',
    '/%c0%ae%c0%ae/secret.txt',
    '/escape.txt',
    '/escape-folder/secret.txt',
    '/.env',
    '/%2eenv',
    '/index.html%00.js',
    '/%ZZ',
    '/C:/secret.txt',
    '//secret.txt',
    '/empty-folder',
    '/assets',
    '/no-such-file.js',
  ])('refuses %s', async (path) => {
    const raw = await rawRequest(test.server.url, { path });
    expect([400, 404]).toContain(raw.status);
    expect(raw.text).not.toContain(SECRET);
    expect(raw.json).toMatchObject({ ok: false, error: { code: expect.stringMatching(/^(BAD_REQUEST|NOT_FOUND)$/) } });
  });

  it.each(['POST', 'PUT', 'DELETE'])('405 for %s on a page', async (verb) => {
    const raw = await rawRequest(test.server.url, { method: verb, path: '/index.html', body: 'x' });
    expect(raw.status).toBe(405);
    expect(raw.headers['allow']).toBe('GET, HEAD');
  });
});

describe('decodePathSegments', () => {
  it.each([
    ['/', []],
    ['/index.html', ['index.html']],
    ['/assets/a%20b.js', ['assets', 'a b.js']],
    ['//assets//a.js', ['assets', 'a.js']],
    ['/caf%C3%A9.png', ['café.png']],
  ])('%s → %j', (path, segments) => {
    expect(decodePathSegments(path)).toEqual(segments);
  });

  it.each(['', 'index.html', 'http://x/index.html', '/..', '/a/../b', '/%2e', '/a%2fb', '/a%5cb', '/a%00', '/.git/config', '/%E0%A4%A', '/a:b'])(
    'refuses %j',
    (path) => {
      expect(decodePathSegments(path)).toBeNull();
    },
  );
});
