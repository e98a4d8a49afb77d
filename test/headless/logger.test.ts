// Structured logs: one JSON object per line, filtered by level, with components for the parts.
import { describe, expect, it } from 'vitest';
import { createLogger, isLogLevel, type LogLevel, type LogRecord } from '../../electron/headless/logger';

function capture(level?: LogLevel) {
  const lines: string[] = [];
  const logger = createLogger({ level, component: 'node', write: (line) => lines.push(line), now: () => Date.UTC(2024, 8, 2, 8, 30) });
  const records = () => lines.map((line) => JSON.parse(line) as LogRecord);
  return { logger, lines, records };
}

describe('logger', () => {
  it('writes one JSON object per line with time, level, component, message and fields', () => {
    const { logger, lines, records } = capture();
    logger.info('API listening', { url: 'http://127.0.0.1:4000', static: null });
    logger.warn('no fields');
    expect(lines.every((line) => line.endsWith('\n') && !line.slice(0, -1).includes('\n'))).toBe(true);
    expect(records()).toEqual([
      {
        time: '2024-09-02T08:30:00.000Z',
        level: 'info',
        component: 'node',
        message: 'API listening',
        fields: { url: 'http://127.0.0.1:4000', static: null },
      },
      { time: '2024-09-02T08:30:00.000Z', level: 'warn', component: 'node', message: 'no fields' },
    ]);
  });

  it.each<[LogLevel, string[]]>([
    ['debug', ['debug', 'info', 'warn', 'error']],
    ['info', ['info', 'warn', 'error']],
    ['warn', ['warn', 'error']],
    ['error', ['error']],
  ])('at %s writes %j', (level, expected) => {
    const { logger, records } = capture(level);
    logger.debug('d');
    logger.info('i');
    logger.warn('w');
    logger.error('e');
    expect(records().map((record) => record.level)).toEqual(expected);
  });

  it('names children after their parent and keeps the level', () => {
    const { logger, records } = capture('warn');
    const api = logger.child('api');
    const events = api.child('events');
    expect([api.component, events.component, events.level]).toEqual(['node.api', 'node.api.events', 'warn']);
    events.info('hidden');
    events.error('shown');
    expect(records()).toMatchObject([{ component: 'node.api.events', message: 'shown' }]);
    expect(createLogger({ write: () => {} }).child('peer').component).toBe('peer');
  });

  it('writes anything it is given: errors, bigints, bytes, cycles', () => {
    const { logger, records } = capture();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic['self'] = cyclic;
    const failure = Object.assign(new Error('disk full', { cause: new Error('ENOSPC') }), { code: 'ENOSPC' });
    logger.error('failed', { error: failure, term: 12n, bytes: new Uint8Array(5), cyclic, at: new Date(0), nan: NaN, fn: () => 1 });
    const fields = records()[0]!.fields!;
    expect(fields['error']).toMatchObject({ name: 'Error', message: 'disk full', code: 'ENOSPC', stack: expect.stringContaining('disk full') });
    expect((fields['error'] as { cause: unknown }).cause).toMatchObject({ message: 'ENOSPC' });
    expect(fields).toMatchObject({
      term: '12',
      bytes: '[5 bytes]',
      cyclic: { name: 'loop', self: '[circular]' },
      at: '1970-01-01T00:00:00.000Z',
      nan: 'NaN',
      fn: '[function]',
    });
  });

  it('survives a sink that throws', () => {
    const logger = createLogger({
      write: () => {
        throw new Error('EPIPE');
      },
    });
    expect(() => logger.error('nowhere to go')).not.toThrow();
  });

  it.each([
    ['debug', true],
    ['error', true],
    ['verbose', false],
    ['INFO', false],
    ['', false],
  ])('isLogLevel(%j) is %s', (text, expected) => {
    expect(isLogLevel(text)).toBe(expected);
  });
});
