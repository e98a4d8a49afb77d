// Seeded random requests (paths, verbs, headers, bodies, raw bytes, upgrades) against a real
// server: it never crashes, and every answer is a well-formed one. The seed is printed; rerun one
// with QUORUM_FUZZ_SEED=<seed> npx vitest run test/headless/fuzz.test.ts
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiMethods, isApiResponse, MAX_BODY_BYTES } from '../../shared/http';
import { ServiceError } from '../../electron/peer/service';
import { exampleParams } from './fake-service';
import { rawRequest, startTestServer, TOKEN, type RawRequest, type TestServer } from './support';

const seed = Number(process.env['QUORUM_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));
const REQUESTS = Number(process.env['QUORUM_FUZZ_REQUESTS'] ?? 800);
const SECRET = 'fuzz-secret-outside-the-site';
const PAGES = new Map([
  ['index.html', '<!doctype html><title>fuzz</title>'],
  ['assets/app.js', 'console.log(1)'],
]);
const STATUSES = new Set([200, 400, 401, 403, 404, 405, 408, 413, 415, 426, 431, 500]);

/** mulberry32: small, fast, and the same sequence for the same seed everywhere. */
function random(seedValue: number): () => number {
  let state = seedValue >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const next = random(seed);
const integer = (below: number) => Math.floor(next() * below);
const pick = <T>(items: readonly T[]): T => items[integer(items.length)]!;
const chance = (p: number) => next() < p;

function randomText(length: number, alphabet = '!$&\'()*+,-.0123456789:;=@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~'): string {
  let text = '';
  for (let index = 0; index < length; index++) text += alphabet[integer(alphabet.length)];
  return text;
}

function randomPath(): string {
  const pieces = [
    'api', 'events', ...apiMethods, '..', '.', '%2e%2e', '%2E', '%2f', '%5c', '%00', '%ff', '%', '%zz', 'index.html',
    'assets', 'app.js', '.env', 'secret.txt', '__proto__', 'constructor', '', randomText(integer(12)),
  ];
  const segments = Array.from({ length: 1 + integer(5) }, () => pick(pieces));
  let path = `/${segments.join('/')}`;
  if (chance(0.1)) path += '/';
  if (chance(0.15)) path += `?${pick(['token=' + TOKEN, 'token=wrong', randomText(integer(20)), 'a=%', ''])}`;
  if (chance(0.05)) path = `/${'a/'.repeat(integer(2000))}`;
  return path;
}

function randomJson(depth = 0): unknown {
  const kind = integer(depth > 3 ? 5 : 8);
  switch (kind) {
    case 0: return null;
    case 1: return chance(0.5);
    case 2: return pick([0, -1, 1.5, 1e308, -0, Number.MAX_SAFE_INTEGER + 2]);
    case 3: return randomText(integer(30), 'abc"\\\u0000\u2028é😀 ');
    case 4: return pick(['put', 'delete', 'I understand', 'class-1', '']);
    case 5: return Array.from({ length: integer(4) }, () => randomJson(depth + 1));
    default: {
      const keys = ['name', 'joinCode', 'classId', 'command', 'op', 'key', 'value', 'waitMs', 'linearizable', 'address', '__proto__', 'constructor', randomText(5)];
      return Object.fromEntries(Array.from({ length: integer(5) }, () => [pick(keys), randomJson(depth + 1)]));
    }
  }
}

function mutate(text: string): string {
  const characters = [...text];
  for (let count = 1 + integer(3); count > 0; count--) {
    const at = integer(characters.length + 1);
    if (chance(0.5)) characters.splice(at, 1);
    else characters.splice(at, 0, pick(['{', '}', '"', ',', ':', '\\', '\u0000', 'x', '[']));
  }
  return characters.join('');
}

function randomBody(method: string): string | Buffer | undefined {
  const example = JSON.stringify(exampleParams[method as keyof typeof exampleParams] ?? { name: 'x' });
  const roll = next();
  if (roll < 0.05) return undefined;
  if (roll < 0.4) return example;
  if (roll < 0.55) return mutate(example);
  if (roll < 0.65) return Buffer.from(Array.from({ length: integer(64) }, () => integer(256)));
  if (roll < 0.68) return 'x'.repeat(MAX_BODY_BYTES + 1 + integer(1000));
  return JSON.stringify(randomJson());
}

function randomRequest(server: TestServer): RawRequest {
  const url = new URL(server.server.url);
  const onApi = chance(0.7);
  const method = pick([...apiMethods, 'nope']);
  const path = onApi && chance(0.8) ? `/api/${method}` : randomPath();
  const headers: Record<string, string> = {};
  const authorization = chance(0.75)
    ? pick([`Bearer ${TOKEN}`, `bearer ${TOKEN}`])
    : pick(['Bearer wrong', `Basic ${TOKEN}`, `Bearer ${TOKEN.slice(1)}`, randomText(integer(60)), undefined]);
  if (authorization !== undefined) headers['authorization'] = authorization;
  const contentType = chance(0.8)
    ? pick(['application/json', 'application/json; charset=utf-8'])
    : pick(['text/plain', randomText(10), undefined]);
  if (contentType !== undefined) headers['content-type'] = contentType;
  if (chance(0.1)) headers['origin'] = pick([`http://${url.host}`, 'http://evil.example', 'null']);
  if (chance(0.05)) headers['x-' + randomText(5, 'abcdefgh')] = randomText(integer(100));
  const verb = onApi ? (chance(0.8) ? 'POST' : pick(['GET', 'PUT', 'DELETE', 'OPTIONS', 'HEAD', 'PATCH'])) : pick(['GET', 'GET', 'HEAD', 'POST', 'OPTIONS']);
  const body = verb === 'GET' || verb === 'HEAD' ? undefined : randomBody(method);
  return { method: verb, path, headers, ...(body === undefined ? {} : { body }) };
}

let directory: string;
let test: TestServer;

beforeAll(async () => {
  console.log(`fuzz seed: ${seed} (rerun with QUORUM_FUZZ_SEED=${seed})`);
  directory = await mkdtemp(join(tmpdir(), 'quorum-fuzz-'));
  await mkdir(join(directory, 'site', 'assets'), { recursive: true });
  for (const [name, content] of PAGES) await writeFile(join(directory, 'site', name), content);
  await writeFile(join(directory, 'secret.txt'), SECRET);
  await writeFile(join(directory, 'site', '.env'), SECRET);
  test = await startTestServer({ staticDir: join(directory, 'site') });
});

afterAll(async () => {
  await test.close();
  await rm(directory, { recursive: true, force: true });
});

describe(`fuzz (seed ${seed})`, () => {
  it('answers every random request with a well-formed response', async () => {
    const statuses = new Map<number, number>();
    for (let sent = 0; sent < REQUESTS; sent += 8) {
      const batch = Array.from({ length: 8 }, () => {
        // Sometimes the peer fails, as data or as a bug.
        if (chance(0.05)) test.service.failNext(pick(apiMethods), chance(0.5) ? new ServiceError('NO_QUORUM', 'later') : new Error('boom'));
        return randomRequest(test);
      });
      const responses = await Promise.all(batch.map((request) => rawRequest(test.server.url, request).then((response) => ({ request, response }))));
      for (const { request, response } of responses) {
        const context = `seed ${seed}: ${request.method} ${request.path.slice(0, 200)} → ${response.status} ${response.text.slice(0, 200)}`;
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        expect(STATUSES.has(response.status), context).toBe(true);
        expect(response.text, context).not.toContain(SECRET);
        expect(response.text, context).not.toMatch(/\n\s+at /);
        expect(response.headers['x-content-type-options'], context).toBe('nosniff');
        expect(response.headers['access-control-allow-origin'], context).toBeUndefined();
        if (request.method === 'HEAD') continue;
        const page = response.status === 200 && !request.path.startsWith('/api') ? [...PAGES.values()].includes(response.text) : false;
        if (!page) expect(isApiResponse(response.json), context).toBe(true);
        if (response.status === 500) expect(response.json, context).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
      }
    }
    test.service.clearFailures();
    console.log(`fuzz seed ${seed}: statuses ${JSON.stringify(Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0])))}`);
    expect(await test.client.call('status', {})).toMatchObject({ ok: true });
  });

  it('survives bytes that are not HTTP', async () => {
    const { hostname, port } = new URL(test.server.url);
    for (let round = 0; round < 60; round++) {
      const socket = connect(Number(port), hostname);
      socket.on('error', () => {});
      await once(socket, 'connect');
      const garbage = chance(0.5)
        ? Buffer.from(Array.from({ length: 1 + integer(300) }, () => integer(256)))
        : Buffer.from(`${pick(['GET', 'POST', 'G ET', ''])} ${randomText(integer(40), 'ab/ %\u0000\r\n.')} HTTP/${pick(['1.1', '1.0', '2', 'x'])}\r\n${pick(['', 'Host: x\r\n', 'Content-Length: -1\r\n', 'Transfer-Encoding: chunked\r\nContent-Length: 3\r\n', 'Upgrade: websocket\r\nConnection: Upgrade\r\n'])}\r\n`);
      socket.write(garbage);
      const chunks: Buffer[] = [];
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      // The server answers and closes, or waits for more; either way it must not fall over.
      await Promise.race([once(socket, 'close'), new Promise((resolve) => setTimeout(resolve, 50))]);
      socket.destroy();
      const answer = Buffer.concat(chunks).toString('latin1');
      if (answer) expect(answer, `seed ${seed}: ${JSON.stringify(garbage.toString('latin1'))}`).toMatch(/^HTTP\/1\.1 \d{3} /);
    }
    expect(await test.client.call('status', {})).toMatchObject({ ok: true });
  });
});
