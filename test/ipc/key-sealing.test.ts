// Sealing the peer's keys with the system's keyring, which only the main process can reach: the
// messages each side accepts, the main process's answers (and when it says there is no keyring),
// the supervisor answering its peer process, and the peer's side of the port.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { PortServer } from '../../electron/headless/port-server';
import { answerSealRequest, keyringProtects } from '../../electron/ipc/key-sealing-service';
import { bytesToBase64, type SealAnswerMessage, type SealRequestMessage } from '../../electron/ipc/key-sealing-protocol';
import { readMainMessage, readPeerMessage } from '../../electron/ipc/peer-port-protocol';
import { PeerSupervisor } from '../../electron/ipc/peer-supervisor';
import { KeySealerError } from '../../electron/peer/secrets';
import { silentLogger } from '../../electron/peer/transport/types';
import { recordingLogger } from '../headless/support';
import { sealerThroughPort, testKeyring } from '../peer/secrets/test-keyring';
import { FakePeerProcess } from './fake-peer-process';

const KEY = bytesToBase64(new Uint8Array(32).map((_, index) => index));

describe('the seal messages on the port', () => {
  it.each<[string, unknown]>([
    ['a seal', { type: 'seal', id: 1, operation: 'seal', data: KEY }],
    ['an unseal', { type: 'seal', id: 0, operation: 'unseal', data: 'AAAA' }],
  ])('main accepts %s request', (_, message) => {
    expect(readPeerMessage(message)).toEqual({ ok: true, message });
  });

  it.each<[string, unknown, RegExp]>([
    ['without an id', { type: 'seal', operation: 'seal', data: KEY }, /without a usable id/],
    ['of another operation', { type: 'seal', id: 1, operation: 'export', data: KEY }, /neither seals nor unseals/],
    ['with bytes instead of base64 text', { type: 'seal', id: 1, operation: 'seal', data: new Uint8Array(32) }, /not base64 text/],
    ['with text that is not base64', { type: 'seal', id: 1, operation: 'seal', data: 'not base64!' }, /not base64 text/],
    ['of more than 64 KiB', { type: 'seal', id: 1, operation: 'seal', data: 'A'.repeat(64 * 1024 + 4) }, /of a usable size/],
  ])('main refuses a request %s', (_, message, problem) => {
    expect(readPeerMessage(message)).toEqual({ ok: false, problem: expect.stringMatching(problem) });
  });

  it.each<[string, unknown]>([
    ['sealed bytes', { type: 'sealAnswer', id: 3, ok: true, data: KEY }],
    ['a refusal', { type: 'sealAnswer', id: 3, ok: false, error: { code: 'KEYRING_UNAVAILABLE', message: 'No keyring.' } }],
  ])('the peer accepts an answer with %s', (_, message) => {
    expect(readMainMessage(message)).toEqual({ ok: true, message });
  });

  it('the peer refuses a malformed answer without pretending it answers a call', () => {
    expect(readMainMessage({ type: 'sealAnswer', id: 3, ok: true, data: 42 })).toEqual({
      ok: false,
      id: null,
      error: { code: 'BAD_REQUEST', message: 'The app sent a seal answer whose data is not base64 text.' },
    });
  });
});

describe('answerSealRequest (the main process)', () => {
  const seal = (data = KEY): SealRequestMessage => ({ type: 'seal', id: 7, operation: 'seal', data });
  const unseal = (data: string): SealRequestMessage => ({ type: 'seal', id: 8, operation: 'unseal', data });
  const sealed = (answer: SealAnswerMessage) => {
    if (!answer.ok) throw new Error(`expected sealed data, got ${answer.error.message}`);
    return answer.data;
  };

  it('seals with the keyring, and unseals what it sealed back to the same bytes', () => {
    const keyring = testKeyring();
    const answer = answerSealRequest(seal(), keyring);
    expect(answer).toMatchObject({ type: 'sealAnswer', id: 7, ok: true });
    expect(sealed(answer)).not.toContain(KEY);
    expect(answerSealRequest(unseal(sealed(answer)), keyring)).toEqual({ type: 'sealAnswer', id: 8, ok: true, data: KEY });
  });

  it.each<[string, ReturnType<typeof testKeyring> | null, boolean]>([
    ['Windows and macOS, when available', testKeyring(), true],
    ['Linux with GNOME’s keyring', testKeyring({ backend: 'gnome_libsecret' }), true],
    ['Linux with KWallet', testKeyring({ backend: 'kwallet5' }), true],
    ['Linux falling back to the password in Chromium’s source', testKeyring({ backend: 'basic_text' }), false],
    ['Linux before a store was chosen', testKeyring({ backend: 'unknown' }), false],
    ['a keyring that is not available', testKeyring({ available: false }), false],
    ['no keyring at all (tests, tools)', null, false],
  ])('on %s, the keyring protects: %s', (_, keyring, protects) => {
    expect(keyringProtects(keyring)).toBe(protects);
    const answer = answerSealRequest(seal(), keyring);
    expect(answer.ok).toBe(protects);
    if (!protects) expect(answer).toMatchObject({ ok: false, error: { code: 'KEYRING_UNAVAILABLE' } });
    expect(keyring?.seals ?? 0).toBe(protects ? 1 : 0);
  });

  it('says the keyring refused what another keyring sealed, or what is not sealed at all', () => {
    const theirs = sealed(answerSealRequest(seal(), testKeyring()));
    expect(answerSealRequest(unseal(theirs), testKeyring())).toMatchObject({ id: 8, ok: false, error: { code: 'KEYRING_REFUSED' } });
    expect(answerSealRequest(unseal('AAAA'), testKeyring())).toMatchObject({ id: 8, ok: false, error: { code: 'KEYRING_REFUSED' } });
  });
});

describe('the supervisor answers its peer process’s seal requests', () => {
  it('with its keyring, and that there is none when it has none', () => {
    const keyring = testKeyring();
    for (const [given, ok] of [[keyring, true], [undefined, false]] as const) {
      const process = new FakePeerProcess();
      const supervisor = new PeerSupervisor({ startProcess: () => process, onEvent: () => {}, logger: recordingLogger(), ...(given ? { keyring: given } : {}) });
      supervisor.start();
      process.send({ type: 'seal', id: 1, operation: 'seal', data: KEY });
      expect(process.posted).toEqual([expect.objectContaining({ type: 'sealAnswer', id: 1, ok })]);
      process.send({ type: 'seal', id: 2, operation: 'seal', data: 'not base64' });
      expect(process.posted).toHaveLength(1); // malformed: logged and dropped, as any malformed message
    }
    expect(keyring.seals).toBe(1);
  });
});

describe('the peer’s side of the port (PortKeySealer in the PortServer)', () => {
  function port() {
    const emitter = Object.assign(new EventEmitter(), { posted: [] as Record<string, unknown>[], postMessage: (_: unknown) => {} });
    emitter.postMessage = (message) => emitter.posted.push(structuredClone(message) as Record<string, unknown>);
    const server = new PortServer({ port: emitter, logger: silentLogger, onStop: () => {} });
    const answer = (message: unknown) => emitter.emit('message', { data: message });
    return { emitter, server, answer };
  }

  it('sends each request with its own id and resolves it with its own answer', async () => {
    const { emitter, server, answer } = port();
    const first = server.sealer.seal(new Uint8Array([1, 2, 3]));
    const second = server.sealer.unseal(new Uint8Array([4, 5]));
    expect(emitter.posted).toEqual([
      { type: 'seal', id: 1, operation: 'seal', data: 'AQID' },
      { type: 'seal', id: 2, operation: 'unseal', data: 'BAU=' },
    ]);
    answer({ type: 'sealAnswer', id: 2, ok: true, data: 'CQk=' });
    answer({ type: 'sealAnswer', id: 1, ok: false, error: { code: 'KEYRING_UNAVAILABLE', message: 'No keyring.' } });
    expect(await second).toEqual(new Uint8Array([9, 9]));
    await expect(first).rejects.toMatchObject({ name: 'KeySealerError', failure: 'unavailable', message: 'No keyring.' });
    // Answers are not API calls: nothing was answered back.
    expect(emitter.posted).toHaveLength(2);
    server.close();
  });

  it('fails a request the keyring refused, and every request once the port is closed', async () => {
    const { server, answer } = port();
    const refused = server.sealer.unseal(new Uint8Array([1]));
    answer({ type: 'sealAnswer', id: 1, ok: false, error: { code: 'KEYRING_REFUSED', message: 'Not ours.' } });
    await expect(refused).rejects.toMatchObject({ failure: 'refused' });
    const inFlight = server.sealer.seal(new Uint8Array([1]));
    server.close();
    await expect(inFlight).rejects.toBeInstanceOf(KeySealerError);
    await expect(inFlight).rejects.toMatchObject({ failure: 'gone' });
    await expect(server.sealer.seal(new Uint8Array([1]))).rejects.toMatchObject({ failure: 'gone' });
  });

  it('round trip through the real relay: what it seals, it unseals', async () => {
    const sealer = sealerThroughPort(testKeyring());
    const secret = new Uint8Array(32).fill(7);
    const sealedSecret = await sealer.seal(secret);
    expect(Buffer.from(sealedSecret).includes(Buffer.from(secret))).toBe(false);
    expect(await sealer.unseal(sealedSecret)).toEqual(secret);
    sealer.close();
  });
});
