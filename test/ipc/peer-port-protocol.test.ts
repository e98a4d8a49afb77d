// The messages between the main process and the peer process: what each side accepts, and what it
// answers or logs for everything else.
import { describe, expect, it } from 'vitest';
import { readMainMessage, readPeerMessage } from '../../electron/ipc/peer-port-protocol';

describe('readMainMessage (what the peer accepts from main)', () => {
  it.each<[string, unknown]>([
    ['a call with parameters its method accepts', { type: 'call', id: 1, method: 'createClass', params: { name: 'Physics 2B' } }],
    ['a call with an optional parameter', { type: 'call', id: 0, method: 'read', params: { classId: 'c', key: 'k', linearizable: true } }],
    ['a call of a method without parameters', { type: 'call', id: 9007199254740991, method: 'status', params: {} }],
  ])('accepts %s', (_, message) => {
    expect(readMainMessage(message)).toEqual({ ok: true, message });
  });

  it('accepts a stop, and keeps nothing else of it', () => {
    expect(readMainMessage({ type: 'stop', extra: 1 })).toEqual({ ok: true, message: { type: 'stop' } });
  });

  it.each<[string, unknown, number | null, string, RegExp]>([
    ['nothing', undefined, null, 'BAD_REQUEST', /must be an object/],
    ['a string', 'status', null, 'BAD_REQUEST', /must be an object/],
    ['an array', [1, 'status', {}], null, 'BAD_REQUEST', /must be an object/],
    ['a message of no known type', { type: 'cast', id: 4, method: 'status', params: {} }, 4, 'BAD_REQUEST', /a call or a stop/],
    ['a call without an id', { type: 'call', method: 'status', params: {} }, null, 'BAD_REQUEST', /must have an id/],
    ['a call with a negative id', { type: 'call', id: -1, method: 'status', params: {} }, null, 'BAD_REQUEST', /must have an id/],
    ['a call with a fractional id', { type: 'call', id: 1.5, method: 'status', params: {} }, null, 'BAD_REQUEST', /must have an id/],
    ['a call with a text id', { type: 'call', id: '7', method: 'status', params: {} }, null, 'BAD_REQUEST', /must have an id/],
    ['an unknown method', { type: 'call', id: 2, method: 'dropTables', params: {} }, 2, 'UNKNOWN_METHOD', /no such API method/],
    ['an inherited name', { type: 'call', id: 2, method: 'constructor', params: {} }, 2, 'UNKNOWN_METHOD', /no such API method/],
    ['a method that is not text', { type: 'call', id: 2, method: 42, params: {} }, 2, 'UNKNOWN_METHOD', /no such API method/],
    ['missing parameters', { type: 'call', id: 3, method: 'status' }, 3, 'INVALID_PARAMS', /^params must be an object$/],
    ['a missing field', { type: 'call', id: 3, method: 'createClass', params: {} }, 3, 'INVALID_PARAMS', /^params\.name is missing$/],
    ['a field of the wrong type', { type: 'call', id: 3, method: 'createClass', params: { name: 7 } }, 3, 'INVALID_PARAMS', /^params\.name must be text$/],
    ['an unexpected field', { type: 'call', id: 3, method: 'status', params: { all: true } }, 3, 'INVALID_PARAMS', /^params\.all is not expected here$/],
  ])('refuses %s, with the id to answer when it has one', (_, message, id, code, text) => {
    const reading = readMainMessage(message);
    expect(reading).toEqual({ ok: false, id, error: { code, message: expect.stringMatching(text) } });
  });
});

describe('readPeerMessage (what main accepts from the peer)', () => {
  it.each<[string, unknown]>([
    ['a result', { type: 'response', id: 1, ok: true, result: { classId: 'c' } }],
    ['a result that is null', { type: 'response', id: 1, ok: true, result: null }],
    ['an error', { type: 'response', id: 2, ok: false, error: { code: 'NOT_FOUND', message: 'No such class.' } }],
    ['an error for a message without an id', { type: 'response', id: null, ok: false, error: { code: 'BAD_REQUEST', message: 'x' } }],
    ['an event', { type: 'event', event: 'applied', payload: { classId: 'c', index: 4 } }],
    ['a ready message', { type: 'ready', laptopId: 'L1', address: 'L1@127.0.0.1:4242' }],
  ])('accepts %s', (_, message) => {
    expect(readPeerMessage(message)).toEqual({ ok: true, message });
  });

  it('keeps only code and message of an error', () => {
    const reading = readPeerMessage({ type: 'response', id: 2, ok: false, error: { code: 'X', message: 'y', stack: 'at …' } });
    expect(reading).toEqual({ ok: true, message: { type: 'response', id: 2, ok: false, error: { code: 'X', message: 'y' } } });
  });

  it.each<[string, unknown, RegExp]>([
    ['nothing', null, /not an object/],
    ['a message of no known type', { type: 'hello' }, /no known type/],
    ['a result without an id', { type: 'response', ok: true, result: 1 }, /without a usable id/],
    ['a result with a null id', { type: 'response', id: null, ok: true, result: 1 }, /without a usable id/],
    ['a result without a result', { type: 'response', id: 1, ok: true }, /without a result/],
    ['a response that is neither', { type: 'response', id: 1, ok: 'yes', result: 1 }, /neither a result nor an error/],
    ['an error that is not {code, message}', { type: 'response', id: 1, ok: false, error: 'boom' }, /neither a result nor an error/],
    ['an error with a text id', { type: 'response', id: '1', ok: false, error: { code: 'X', message: 'y' } }, /unusable id/],
    ['an event the API does not have', { type: 'event', event: 'shutdown', payload: {} }, /event the API does not have/],
    ['an event without a payload', { type: 'event', event: 'applied' }, /without a payload/],
    ['a ready message without an address', { type: 'ready', laptopId: 'L1' }, /without laptopId and address/],
  ])('refuses %s', (_, message, problem) => {
    expect(readPeerMessage(message)).toEqual({ ok: false, problem: expect.stringMatching(problem) });
  });
});
