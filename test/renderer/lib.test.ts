// The renderer's pure helpers: the safe Markdown reading of instructions, errors turned into
// sentences, and the date fields' round trip.
import { describe, expect, it, vi } from 'vitest';
import { ApiRequestError } from '../../shared/http';
import { explainError } from '../../renderer/src/lib/errors';
import { formatScore, fromDateTimeInput, plural, toDateTimeInput } from '../../renderer/src/lib/format';
import { parseInline, parseMarkdown } from '../../renderer/src/lib/markdown';

describe('parseMarkdown', () => {
  it.each([
    ['', []],
    ['Hello\nworld', [{ kind: 'paragraph', content: [{ kind: 'text', text: 'Hello\nworld' }] }]],
    ['# Task', [{ kind: 'heading', level: 2, content: [{ kind: 'text', text: 'Task' }] }]],
    ['### Deep\n###### Deeper', [
      { kind: 'heading', level: 4, content: [{ kind: 'text', text: 'Deep' }] },
      { kind: 'heading', level: 4, content: [{ kind: 'text', text: 'Deeper' }] },
    ]],
    ['- a\n- b\n\n1. c', [
      { kind: 'list', ordered: false, items: [[{ kind: 'text', text: 'a' }], [{ kind: 'text', text: 'b' }]] },
      { kind: 'list', ordered: true, items: [[{ kind: 'text', text: 'c' }]] },
    ]],
    ['```\n<b>x</b>\n# not a heading\n```', [{ kind: 'code', text: '<b>x</b>\n# not a heading' }]],
    ['```\nnever closed', [{ kind: 'code', text: 'never closed' }]],
  ])('reads %j', (source, blocks) => {
    expect(parseMarkdown(source)).toEqual(blocks);
  });

  it('keeps markup as text: nothing it returns is HTML', () => {
    const blocks = parseMarkdown('<img src=x onerror=alert(1)> **<script>**');
    expect(blocks).toEqual([
      { kind: 'paragraph', content: [{ kind: 'text', text: '<img src=x onerror=alert(1)> ' }, { kind: 'strong', text: '<script>' }] },
    ]);
  });
});

describe('parseInline', () => {
  it.each([
    ['**bold** and *it* and `code`', [
      { kind: 'strong', text: 'bold' },
      { kind: 'text', text: ' and ' },
      { kind: 'em', text: 'it' },
      { kind: 'text', text: ' and ' },
      { kind: 'code', text: 'code' },
    ]],
    ['snake_case_name stays text', [{ kind: 'text', text: 'snake_case_name stays text' }]],
    ['2 * 3 * 4', [{ kind: 'text', text: '2 * 3 * 4' }]],
    ['a lone ** pair', [{ kind: 'text', text: 'a lone ** pair' }]],
  ])('reads %j', (source, parts) => {
    expect(parseInline(source)).toEqual(parts);
  });
});

describe('explainError', () => {
  it.each([
    ['UNREACHABLE', 'The Quorum node did not answer. Is it running?', /^Quorum on this laptop is not answering\./],
    ['TIMEOUT', 'timed out', /took too long/],
    ['UNAUTHORIZED', 'Missing or invalid token.', /not allowed to use Quorum/],
    ['INVALID_PARAMS', 'params.command.title must be a string of 1 to 200 characters', /Check the fields/],
    ['INTERNAL', 'The node failed.', /Something went wrong inside Quorum/],
    ['BAD_JOIN_CODE', 'That join code is not right. Check it against the one your teacher shows and try again.', /^That join code is not right\./],
    ['SOMETHING_NEW', 'stack at foo (bar.js:1:2)', /^Something went wrong\./],
  ])('%s reads as a sentence', (code, message, expected) => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const sentence = explainError(new ApiRequestError(code, message));
    expect(sentence).toMatch(expected);
    expect(sentence).not.toContain(code);
    vi.restoreAllMocks();
  });

  it('never shows a page bug to the person', () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect(explainError(new TypeError("Cannot read properties of undefined (reading 'x')"))).toBe(
      'Something went wrong. Try again; if it keeps happening, restart Quorum.',
    );
    vi.restoreAllMocks();
  });
});

describe('format', () => {
  it('round-trips a datetime-local value', () => {
    const ms = fromDateTimeInput('2031-05-20T09:00');
    expect(ms).not.toBeNull();
    expect(toDateTimeInput(ms)).toBe('2031-05-20T09:00');
    expect(fromDateTimeInput('')).toBeNull();
    expect(toDateTimeInput(null)).toBe('');
  });

  it.each([
    [8, 10, '8 / 10'],
    [8, null, '8 points'],
    [null, null, 'Ungraded'],
    [null, 10, 'No score'],
  ])('score %s of %s reads %s', (score, points, text) => {
    expect(formatScore(score, points)).toBe(text);
  });

  it('counts in words', () => {
    expect(plural(1, 'change')).toBe('1 change');
    expect(plural(3, 'change')).toBe('3 changes');
  });
});
