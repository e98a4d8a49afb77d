// Bad input against the real thing: the HTTP API in front of a real ClassroomPeer (SQLite in a
// temporary directory, transport on loopback, discovery off) with one class of its own. For every
// method, fast-check sends parameters of every wrong shape, and bodies that are not JSON, not
// declared as JSON or too large. Each answer must be an ApiResponse; a refusal must carry a code
// we know and a sentence a person can read (never INTERNAL, a stack or a file path); a refused
// call must change nothing (classes, applied index, digest, outbox, saved files); an accepted
// write must read back as it was sent; and the node must still answer afterwards.
//
// fast-check generates the requests from one seed per run, printed first; replay a failure with
//   QUORUM_FUZZ_SEED=<seed> npx vitest run test/headless/api.property.test.ts
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiMethod } from '../../shared/api';
import { apiMethods, checkParams, HttpErrorCode, isApiResponse, MAX_BODY_BYTES } from '../../shared/http';
import { startApiServer, type ApiServer } from '../../electron/headless/api-server';
import { ClassroomPeer } from '../../electron/peer/classroom-peer';
import { propertySeed } from '../property-seed';
import { rawRequest, recordingLogger, TOKEN, type RawResponse } from './support';

const seed = propertySeed('test/headless/api.property.test.ts');

/**
 * Codes a refusal may carry: the HTTP layer's own, and every code the peer throws a ServiceError
 * with (read from the source, so a method added later is held to the same rule).
 */
const KNOWN_CODES = new Set<string>([...Object.values(HttpErrorCode), ...serviceErrorCodes(join(import.meta.dirname, '../../electron'))]);

function serviceErrorCodes(folder: string): string[] {
  const files = readdirSync(folder, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
  const source = files.map((file) => readFileSync(join(folder, file), 'utf8')).join('\n');
  return [...source.matchAll(/(?:new ServiceError|backupError)\(\s*'([A-Z][A-Z0-9_]*)'/g)].map((match) => match[1]!);
}
/** Statuses the API answers bad input with; 500 would mean the input broke something inside. */
const CALLER_STATUSES = new Set([200, 400, 413, 415]);

// ---- the node under test ---------------------------------------------------------------------

let dataDir: string;
let peer: ClassroomPeer;
let server: ApiServer;
/** The peer dials every address it accepts: this is the only place it is ever allowed to dial. */
let sink: Server;
let sinkPort: number;
let classId: string;
let joinCode: string;
const peerLogger = recordingLogger();
const serverLogger = recordingLogger();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'quorum-api-property-'));
  peer = await ClassroomPeer.open({
    dataDir,
    displayName: 'Fuzzed laptop',
    host: '127.0.0.1',
    port: 0,
    discovery: { enabled: false },
    logger: peerLogger,
    // A class of one laptop can only wait on its own election: short ticks make an accepted
    // createClass take ~0.25 s instead of ~1.2 s, and nothing else here depends on timing.
    timing: { tickMs: 10 },
  });
  ({ classId, joinCode } = await peer.methods.createClass({ name: 'Fuzzed class' }));
  server = await startApiServer({ service: peer, token: TOKEN, logger: serverLogger, host: '127.0.0.1', port: 0 });
  sink = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  sinkPort = (sink.address() as { port: number }).port;
}, 30_000);

afterAll(async () => {
  await server?.close();
  await peer?.close();
  await new Promise((resolve) => sink?.close(resolve));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

/** Everything a call could change: the classes and their replicated state, and the files the peer keeps. */
async function nodeState(): Promise<unknown> {
  const status = await peer.methods.status({});
  const file = (name: string) => (existsSync(join(dataDir, name)) ? readFileSync(join(dataDir, name), 'utf8') : null);
  return {
    classes: status.classes.map((c) => ({
      classId: c.classId,
      name: c.name,
      term: c.term,
      commit: c.commit,
      applied: c.applied,
      digest: c.digest,
      outbox: c.outbox,
      voters: c.voters,
      learners: c.learners,
    })),
    registry: file('classes.json'),
    addresses: file('laptop-addresses.json'),
  };
}

// ---- what a confused or hostile caller sends ---------------------------------------------------

/** One character, often one that trips up decoders and databases: a lone surrogate, a mark, a control. */
const trickyCharacter = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom('\ud800', '\udfff', '\ufeff', '\u0000', '\u202e', '\u2028', 'é', '😀', '"', '\\') },
);

/** Text of every kind: tricky characters, graphemes, names that mean something to JavaScript or SQL, huge. */
const anyString = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: trickyCharacter, maxLength: 30 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '', ' ', ' \t\n ', '__proto__', 'constructor', 'toString', 'null', '{}', 'ａｂｃ', 'Ｆｕｚｚ', '<script>',
      "'; DROP TABLE kv; --", '%00', '../../etc/passwd',
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('x', 'é', '😀', ' ', '\u0000', '"', '\\'), fc.constantFrom(200, 201, 1024, 1025, 5000, 100_000))
      .map(([unit, count]) => unit.repeat(count)),
  },
);

/** Numbers as JSON text, including what JSON.parse turns into Infinity, -0 or an unsafe integer. */
const numberText = fc.oneof(
  fc.constantFrom('0', '-0', '-1', '1.5', '0.1', '1e400', '-1e400', '1e-400', '5e3', '60000', '60001'),
  fc.constantFrom('9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740993', '123456789012345678901234567890'),
  fc.integer().map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
);

const FIELD_NAMES = ['name', 'joinCode', 'classId', 'command', 'op', 'key', 'value', 'waitMs', 'linearizable', 'address'];
const fieldName = fc.oneof(
  fc.constantFrom(...FIELD_NAMES, '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'Name', 'name '),
  anyString,
);

/** Any JSON value, as text; nests a few levels deep. */
const jsonText: fc.Arbitrary<string> = fc.letrec<{ value: string }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom('null', 'true', 'false'),
    numberText,
    anyString.map((s) => JSON.stringify(s)),
    fc.array(tie('value'), { maxLength: 4 }).map((items) => `[${items.join(',')}]`),
    fc.array(fc.tuple(fieldName, tie('value')), { maxLength: 4 }).map(objectLiteral),
  ),
})).value;

function objectLiteral(entries: [string, string][]): string {
  return `{${entries.map(([name, value]) => `${JSON.stringify(name)}:${value}`).join(',')}}`;
}

/**
 * An object with the method's fields, each one usually of a fitting kind (which may still be a
 * value the method refuses), sometimes of any kind, sometimes left out; and now and then extra fields.
 */
function objectText(fields: Record<string, fc.Arbitrary<string>>): fc.Arbitrary<string> {
  // Odds that leave a fair share of whole, fitting objects: a method has up to five fields.
  const chosen = Object.entries(fields).map(([name, fitting]) =>
    fc.oneof(
      { weight: 12, arbitrary: fitting.map((value): [string, string] | null => [name, value]) },
      { weight: 1, arbitrary: jsonText.map((value): [string, string] | null => [name, value]) },
      { weight: 1, arbitrary: fc.constant(null) },
    ),
  );
  const extra = fc.oneof(
    { weight: 12, arbitrary: fc.constant<[string, string][]>([]) },
    { weight: 1, arbitrary: fc.array(fc.tuple(fieldName, jsonText), { minLength: 1, maxLength: 2 }) },
  );
  return fc
    .tuple(fc.tuple(...chosen), extra)
    .map(([kept, extras]) => objectLiteral([...kept.filter((field): field is [string, string] => field !== null), ...extras]));
}

const quoted = (strings: fc.Arbitrary<string>) => strings.map((s) => JSON.stringify(s));

/** The class the peer holds, that class misspelled, or something else entirely. */
function classIdText(): fc.Arbitrary<string> {
  return quoted(
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(classId) },
      { weight: 1, arbitrary: fc.constantFrom(classId.toUpperCase(), ` ${classId}`, `${classId}\u0000`, classId.slice(1), `${classId}x`) },
      { weight: 2, arbitrary: anyString },
    ),
  );
}

/** Join codes for the class the peer already has (accepted, and changes nothing), or broken ones. */
function joinCodeText(): fc.Arbitrary<string> {
  const sameClass = fc.constantFrom(joinCode, joinCode.toLowerCase(), joinCode.replaceAll('-', ''), ` ${joinCode.replaceAll('-', ' ')} `);
  // Never a different code of valid form: the peer would join that class and look for it forever.
  const broken = fc.tuple(fc.nat(), fc.constantFrom('0', '1', 'I', 'O', 'Ａ', 'А', '\u0000', '😀', '')).map(([at, character]) => {
    const index = at % joinCode.length;
    return joinCode.slice(0, index) + character + joinCode.slice(index + 1);
  });
  const tooLong = fc.constantFrom(`${joinCode}A`, `${joinCode}-${joinCode}`, joinCode.slice(0, -1));
  return quoted(fc.oneof(sameClass, broken, tooLong, anyString));
}

const LAPTOP_ID = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
function addressText(): fc.Arbitrary<string> {
  const laptopId = fc.constantFrom(LAPTOP_ID, 'abcdefgh', 'short', 'x'.repeat(65), 'has space1', 'émile123');
  const host = fc.constantFrom('127.0.0.1', '[::1]', 'localhost', '', 'a b', '[zz]', '10.0.0.1', '[');
  const port = fc.constantFrom('0', '1', '65535', '65536', '99999', '-1', '', 'x', '0x10');
  const nearlyAnAddress = fc.tuple(laptopId, host, port).map(([id, h, p]) => `${id}@${h}:${p}`);
  return quoted(fc.oneof(nearlyAnAddress, anyString));
}

/**
 * Mostly names the peer refuses: each accepted one opens a whole class (a SQLite file, a Raft
 * group and an election), which would spend the time budget on success rather than refusals.
 */
const className = quoted(
  fc.oneof(
    { weight: 1, arbitrary: anyString },
    { weight: 3, arbitrary: fc.constantFrom('', ' ', ' \t\n ', '\u3000', ' '.repeat(300), 'x'.repeat(121), 'é'.repeat(121), `${'x'.repeat(121)} `) },
  ),
);

const keyText = quoted(fc.oneof(anyString, fc.constantFrom('k', 'greeting', 'x'.repeat(1024), 'x'.repeat(1025))));
const commandText = fc.oneof(
  { weight: 3, arbitrary: objectText({ op: fc.constant('"put"'), key: keyText, value: quoted(anyString) }) },
  { weight: 1, arbitrary: objectText({ op: fc.constant('"delete"'), key: keyText }) },
  { weight: 1, arbitrary: objectText({ op: quoted(fc.constantFrom('PUT', 'del', 'get', '', 'put ', 'toString')), key: keyText, value: quoted(anyString) }) },
);
/** Classroom commands of every type with fields that fit, don't, or are missing. */
const classroomCommandText = objectText({
  type: quoted(
    fc.oneof(
      { weight: 8, arbitrary: fc.constantFrom('createAssignment', 'editAssignment', 'saveDraft', 'turnIn', 'unsubmit', 'grade', 'returnGrade', 'excuse', 'comment', 'joinClass', 'removeMember') },
      { weight: 1, arbitrary: anyString },
    ),
  ),
  assignmentId: quoted(fc.oneof(fc.constantFrom('lab-0001', 'lab-0002'), anyString)),
  title: quoted(anyString),
  text: quoted(anyString),
  studentId: quoted(anyString),
  score: numberText,
});
const waitMsText = fc.oneof(fc.constantFrom('0', '1', '50', '60000', '60001', '9007199254740991'), numberText);

/** Parameters for `method` as JSON text: any JSON at all, or its own object gone wrong. */
function paramsText(method: ApiMethod): fc.Arbitrary<string> {
  const own: Record<ApiMethod, () => fc.Arbitrary<string>> = {
    status: () => objectText({}),
    createClass: () => objectText({ name: className }),
    joinClass: () => objectText({ joinCode: joinCodeText() }),
    cancelJoin: () => objectText({}),
    write: () => objectText({ classId: classIdText(), command: commandText, waitMs: waitMsText }),
    read: () => objectText({ classId: classIdText(), key: keyText, linearizable: fc.oneof(fc.constantFrom('true', 'false'), jsonText) }),
    addPeerAddress: () => objectText({ address: addressText() }),
    recoveryPlan: () => objectText({ classId: classIdText() }),
    // The class has a leader here, so even a confirmed recovery is refused (and must change nothing).
    recoverClass: () => objectText({ classId: classIdText(), confirm: fc.oneof(fc.constantFrom('true', 'false'), jsonText) }),
    classroom: () => objectText({ classId: classIdText() }),
    submitCommand: () => objectText({ classId: classIdText(), command: classroomCommandText, waitMs: waitMsText }),
    submission: () => objectText({ classId: classIdText(), assignmentId: quoted(anyString), studentId: quoted(anyString) }),
    gradebook: () => objectText({ classId: classIdText() }),
    exportGradebook: () => objectText({ classId: classIdText() }),
    activity: () => objectText({ classId: classIdText(), limit: numberText }),
    startUpload: () => objectText({ name: quoted(anyString), type: quoted(anyString), size: numberText }),
    uploadChunk: () => objectText({ uploadId: quoted(anyString), offset: numberText, data: quoted(anyString) }),
    finishUpload: () => objectText({ uploadId: quoted(anyString) }),
    readFile: () => objectText({ classId: classIdText(), sha256: quoted(fc.oneof(anyString, fc.constant('0'.repeat(64)))), offset: numberText, length: numberText }),
    exportBackup: () => objectText({ classId: classIdText(), folder: quoted(anyString), passphrase: quoted(anyString) }),
    restoreBackup: () => objectText({ file: quoted(anyString), passphrase: quoted(anyString) }),
    setBackupSchedule: () => objectText({ classId: classIdText(), folder: quoted(anyString), passphrase: quoted(anyString), everyMinutes: numberText }),
    backupStatus: () => objectText({ classId: classIdText() }),
  };
  return fc.oneof({ weight: 1, arbitrary: jsonText }, { weight: 3, arbitrary: own[method]() });
}

// ---- sending and judging ----------------------------------------------------------------------

const LAPTOP_ADDRESS = /^([A-Za-z0-9]{8,64})@([^\s@:[\]]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/;

/** Any address the peer would accept is pointed at the sink: tests send traffic to 127.0.0.1 only. */
function keepOnLoopback(method: ApiMethod, body: string): string {
  if (method !== 'addPeerAddress') return body;
  let params: unknown;
  try {
    params = JSON.parse(body);
  } catch {
    return body;
  }
  const address = (params as { address?: unknown } | null)?.address;
  const match = typeof address === 'string' ? LAPTOP_ADDRESS.exec(address.trim()) : null;
  if (!match) return body;
  return JSON.stringify({ ...(params as object), address: `${match[1]}@127.0.0.1:${sinkPort}` });
}

interface Call {
  method: ApiMethod;
  body: string | Buffer;
  contentType?: string;
  chunked?: boolean;
}

async function send(call: Call): Promise<RawResponse> {
  const headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` };
  if (call.contentType !== undefined) headers['content-type'] = call.contentType;
  if (call.chunked) headers['transfer-encoding'] = 'chunked';
  return rawRequest(server.url, { method: 'POST', path: `/api/${call.method}`, headers, body: call.body });
}

/** Read by a person: one line of words, of sane length, with nothing of the node's insides. */
function expectSentence(message: string, context: string): void {
  expect(message.length, context).toBeGreaterThan(0);
  expect(message.length, context).toBeLessThanOrEqual(300);
  expect(message, context).toMatch(/\p{L}+\s+\p{L}+/u);
  expect(message, context).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/);
  // No stack frame, source file, error class or JavaScript leaking through.
  expect(message, context).not.toMatch(/\bat \S+ \(|\.[cm]?[jt]s:\d+|node:internal|\b[A-Z][a-z]*Error\b|\bundefined\b|\[object /);
}

/** The answer is an ApiResponse; a refusal is the caller's fault, named by a known code in a sentence. */
function expectClearAnswer(call: Call, response: RawResponse): void {
  const shown = typeof call.body === 'string' ? call.body : `<${call.body.byteLength} bytes>`;
  const context = `${call.method} ${call.contentType ?? '(no content type)'} ${shown.slice(0, 300)} → ${response.status} ${response.text.slice(0, 300)}`;
  expect(CALLER_STATUSES.has(response.status), context).toBe(true);
  expect(isApiResponse(response.json), context).toBe(true);
  const answer = response.json as { ok: boolean; error?: { code: string; message: string } };
  if (answer.ok) return;
  expect(KNOWN_CODES.has(answer.error!.code), context).toBe(true);
  expect(answer.error!.code, context).not.toBe(HttpErrorCode.internal);
  expectSentence(answer.error!.message, context);
}

/** What an accepted call stored reads back exactly as it was sent: a put's value, a new class's name. */
async function expectKeptAsSent(call: Call): Promise<void> {
  if (call.method === 'write') {
    const params = JSON.parse(String(call.body)) as { classId: string; command: { op: string; key: string; value?: string } };
    const read = await peer.methods.read({ classId: params.classId, key: params.command.key });
    expect(read.value, `${String(call.body).slice(0, 300)} read back`).toBe(params.command.op === 'put' ? params.command.value : null);
  }
  if (call.method === 'createClass') {
    const { name } = JSON.parse(String(call.body)) as { name: string };
    const names = (await peer.methods.status({})).classes.map((c) => c.name);
    expect(names, `${String(call.body).slice(0, 300)} read back`).toContain(name.trim());
  }
}

/** Sends `call`; checks the answer, and that a refusal changed nothing. */
async function check(call: Call): Promise<void> {
  const before = await nodeState();
  const response = await send(call);
  expectClearAnswer(call, response);
  if ((response.json as { ok: boolean }).ok) await expectKeptAsSent(call);
  else expect(await nodeState(), `${call.method} was refused, yet the node changed`).toEqual(before);
}

async function expectNodeAnswers(): Promise<void> {
  const response = await send({ method: 'status', body: '{}', contentType: 'application/json' });
  expect(response.status).toBe(200);
  expect(response.json).toMatchObject({ ok: true, result: { classes: expect.arrayContaining([expect.objectContaining({ classId })]) } });
}

// ---- the properties ---------------------------------------------------------------------------

/** Runs per method: every accepted createClass opens a whole class, so fewer of those. */
const RUNS: Record<ApiMethod, number> = {
  status: 100,
  createClass: 40,
  joinClass: 150,
  cancelJoin: 40,
  write: 400,
  read: 200,
  addPeerAddress: 150,
  recoveryPlan: 80,
  recoverClass: 80,
  classroom: 60,
  submitCommand: 150,
  submission: 80,
  gradebook: 60,
  exportGradebook: 60,
  activity: 60,
  startUpload: 60,
  uploadChunk: 60,
  finishUpload: 40,
  readFile: 60,
  exportBackup: 40,
  restoreBackup: 40,
  setBackupSchedule: 40,
  backupStatus: 40,
};

describe('random parameters', () => {
  it.each(apiMethods.map((method) => [method]))('%s: a clear answer to each, and a refusal changes nothing', async (method: ApiMethod) => {
    await fc.assert(
      fc.asyncProperty(paramsText(method), async (text) => {
        await check({ method, body: keepOnLoopback(method, text), contentType: 'application/json' });
      }),
      { seed, numRuns: RUNS[method] },
    );
    await expectNodeAnswers();
  });
});

/** `text` with each edit applied in turn: '' deletes the character at the position, anything else is inserted there. */
function withEdits(text: string, edits: [position: number, insert: string][]): string {
  return edits.reduce((edited, [position, insert]) => {
    const at = position % (edited.length + 1);
    return insert === '' ? edited.slice(0, at) + edited.slice(at + 1) : edited.slice(0, at) + insert + edited.slice(at);
  }, text);
}

describe('malformed bodies', () => {
  const method = fc.constantFrom(...apiMethods);
  const VALID: Record<ApiMethod, string> = {
    status: '{}',
    createClass: '{"name":"Physics"}',
    joinClass: '{"joinCode":"x"}',
    cancelJoin: '{}',
    write: '{"classId":"c","command":{"op":"put","key":"k","value":"v"}}',
    read: '{"classId":"c","key":"k","linearizable":true}',
    addPeerAddress: '{"address":"x"}',
    recoveryPlan: '{"classId":"c"}',
    recoverClass: '{"classId":"c","confirm":true}',
    classroom: '{"classId":"c"}',
    submitCommand: '{"classId":"c","command":{"type":"turnIn","assignmentId":"lab-0001"}}',
    submission: '{"classId":"c","assignmentId":"lab-0001","studentId":"s"}',
    gradebook: '{"classId":"c"}',
    exportGradebook: '{"classId":"c"}',
    activity: '{"classId":"c"}',
    startUpload: '{"name":"a.txt","type":"text/plain","size":5}',
    uploadChunk: '{"uploadId":"u","offset":0,"data":"aGVsbG8="}',
    finishUpload: '{"uploadId":"u"}',
    readFile: '{"classId":"c","sha256":"00","offset":0,"length":5}',
    exportBackup: '{"classId":"c","folder":"/tmp","passphrase":"p"}',
    restoreBackup: '{"file":"/nonexistent","passphrase":"p"}',
    setBackupSchedule: '{"classId":"c","folder":"/tmp","passphrase":"p","everyMinutes":0}',
    backupStatus: '{"classId":"c"}',
  };

  it('not JSON: refused as BAD_REQUEST (or read as the JSON it turned out to be)', async () => {
    const notJson = fc.oneof(
      fc.constantFrom('{', '{"name":', 'nul', "{'name':'x'}", 'NaN', '{"waitMs":NaN}', 'Infinity', '-', '[1,]', '{"a":1,}', '\u0000', '\ufeff{}', '{}{}', '{"a":"\\x41"}', '{"a":"\\ud800"'),
      fc.string({ unit: 'binary', maxLength: 60 }),
      // A valid body with characters deleted ('') or inserted.
      fc
        .tuple(method, fc.array(fc.tuple(fc.nat(), fc.constantFrom('', '{', '}', '"', ',', ':', '\\', '[', 'x', '\u0000')), { minLength: 1, maxLength: 3 }))
        .map(([m, edits]) => withEdits(VALID[m], edits)),
    );
    await fc.assert(
      fc.asyncProperty(method, notJson, async (m, body) => {
        await check({ method: m, body: keepOnLoopback(m, body), contentType: 'application/json' });
      }),
      { seed, numRuns: 200 },
    );
    await expectNodeAnswers();
  });

  it('random bytes, mostly not UTF-8: a clear answer, and a refusal changes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(method, fc.uint8Array({ minLength: 1, maxLength: 200 }), async (m, bytes) => {
        await check({ method: m, body: Buffer.from(bytes), contentType: 'application/json; charset=utf-8' });
      }),
      { seed, numRuns: 150 },
    );
    await expectNodeAnswers();
  });

  it('not declared as JSON: refused as UNSUPPORTED_MEDIA_TYPE, whatever the body', async () => {
    const contentType = fc.oneof(
      fc.constantFrom('text/plain', 'text/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx'),
      fc.constantFrom('application/json-patch+json', 'application/ld+json', 'json', '', ' ', 'application/json, text/plain', '*/*'),
      fc.string({ maxLength: 30 }).filter((type) => type.split(';')[0]!.trim().toLowerCase() !== 'application/json'),
    );
    await fc.assert(
      fc.asyncProperty(method, contentType, async (m, type) => {
        const call: Call = { method: m, body: keepOnLoopback(m, VALID[m]), contentType: type };
        const before = await nodeState();
        const response = await send(call);
        expectClearAnswer(call, response);
        expect(response.status).toBe(415);
        expect(response.json).toMatchObject({ ok: false, error: { code: HttpErrorCode.unsupportedMediaType } });
        expect(await nodeState()).toEqual(before);
      }),
      { seed, numRuns: 80 },
    );
    await expectNodeAnswers();
  });

  it('over the size limit, declared or streamed: refused as BODY_TOO_LARGE', async () => {
    const oversized = fc.record({
      method,
      extra: fc.integer({ min: 1, max: 64 * 1024 }),
      chunked: fc.boolean(),
      shape: fc.constantFrom('json', 'junk'),
    });
    await fc.assert(
      fc.asyncProperty(oversized, async ({ method: m, extra, chunked, shape }) => {
        const size = MAX_BODY_BYTES + extra;
        const body = shape === 'json' ? `{"name":"${'x'.repeat(size - 11)}"}` : 'x'.repeat(size);
        const call: Call = { method: m, body, contentType: 'application/json', chunked };
        const before = await nodeState();
        const response = await send(call);
        expectClearAnswer(call, response);
        expect(response.json).toMatchObject({ ok: false, error: { code: HttpErrorCode.bodyTooLarge } });
        expect(await nodeState()).toEqual(before);
      }),
      { seed, numRuns: 6 },
    );
    await expectNodeAnswers();
  });
});

describe('regressions', () => {
  it('names an unexpected field in one short line, whatever its length or characters', () => {
    // It used to be echoed whole: a 100 000-character name made a 100 000-character message.
    expect(checkParams('status', { ['x'.repeat(100_000)]: 1 })).toBe('params has a field "xxxxxxxxxxxxxxxxxxxxxxxx"… that is not expected here');
    expect(checkParams('write', { classId: 'c', command: { op: 'delete', key: 'k', 'line\nbreak\u202e': 1 } })).toBe(
      'params.command has a field "line\\nbreak\\u202e" that is not expected here',
    );
    expect(checkParams('status', { extra: 1 })).toBe('params.extra is not expected here');
  });

  it('refuses text with half of a surrogate pair, which SQLite would have kept as replacement characters', async () => {
    const body = JSON.stringify({ classId, command: { op: 'put', key: 'half', value: 'v\udfff' } });
    const response = await send({ method: 'write', body, contentType: 'application/json' });
    expect(response.json).toEqual({
      ok: false,
      error: { code: 'INVALID_PARAMS', message: 'params.command.value must be text without half of a surrogate pair' },
    });
    expect((await peer.methods.read({ classId, key: 'half' })).value).toBeNull();
    // A whole pair is one character, and fine.
    expect(checkParams('createClass', { name: 'Club \ud83d\ude00' })).toBeNull();
  });
});

describe('the node after all of it', () => {
  it('logged no error, and still has its class as it was made', async () => {
    expect(serverLogger.entries.filter((entry) => entry.level === 'error')).toEqual([]);
    expect(peerLogger.entries.filter((entry) => entry.level === 'error')).toEqual([]);
    const overview = await peer.methods.classroom({ classId });
    expect(overview).toMatchObject({ name: 'Fuzzed class', me: { role: 'teacher' } });
  });
});
