// Structured logs for the headless node: one JSON object per line on stderr, so a person can read
// them and a program can filter them (`jq 'select(.level == "warn")'`). stdout stays free for the
// few machine-readable lines the command prints (see cli.ts).
import type { Logger } from '../peer/transport/types';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The levels from the most to the least talkative. */
export const logLevels: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export function isLogLevel(text: string): text is LogLevel {
  return (logLevels as readonly string[]).includes(text);
}

/** A Logger that writes JSON lines and can make loggers for its parts. */
export interface StructuredLogger extends Logger {
  /** Lines below this level are not written. */
  readonly level: LogLevel;
  /** Who writes, e.g. "node.api"; empty for the root logger. */
  readonly component: string;
  /** A logger for a part of this one: its component is `<this component>.<component>`. */
  child(component: string): StructuredLogger;
}

/** One log line as written. */
export interface LogRecord {
  /** ISO 8601 in UTC. */
  time: string;
  level: LogLevel;
  component: string;
  message: string;
  /** Present only when the caller gave fields. */
  fields?: Record<string, unknown>;
}

export interface LoggerOptions {
  /** Default 'info'. */
  level?: LogLevel;
  /** Default '' (the root). */
  component?: string;
  /** Receives each line with its newline; defaults to stderr. */
  write?: (line: string) => void;
  /** Defaults to the system clock. */
  now?: () => number;
}

export function createLogger(options: LoggerOptions = {}): StructuredLogger {
  return new JsonLineLogger(
    options.level ?? 'info',
    options.component ?? '',
    options.write ?? writeToStderr,
    options.now ?? Date.now,
  );
}

class JsonLineLogger implements StructuredLogger {
  private readonly threshold: number;

  constructor(
    readonly level: LogLevel,
    readonly component: string,
    private readonly write: (line: string) => void,
    private readonly now: () => number,
  ) {
    this.threshold = logLevels.indexOf(level);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.log('debug', message, fields);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.log('info', message, fields);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.log('warn', message, fields);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.log('error', message, fields);
  }

  child(component: string): StructuredLogger {
    const name = this.component ? `${this.component}.${component}` : component;
    return new JsonLineLogger(this.level, name, this.write, this.now);
  }

  private log(level: LogLevel, message: string, fields: Record<string, unknown> | undefined): void {
    if (logLevels.indexOf(level) < this.threshold) return;
    const record: LogRecord = { time: new Date(this.now()).toISOString(), level, component: this.component, message };
    if (fields && Object.keys(fields).length > 0) record.fields = toLoggable(fields, 0, new WeakSet()) as Record<string, unknown>;
    try {
      this.write(`${JSON.stringify(record)}\n`);
    } catch {
      // A closed stderr (EPIPE) must not take the node down; there is nowhere left to say so.
    }
  }
}

const MAX_DEPTH = 8;
const MAX_STRING = 16 * 1024;

/**
 * A copy of `value` that JSON.stringify can always write: errors keep their name, message, code
 * and stack; bigints become strings; bytes are summarized; cycles and very deep values are cut.
 */
function toLoggable(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return value.length > MAX_STRING ? `${value.slice(0, MAX_STRING)}…` : value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'function' || typeof value === 'symbol') return `[${typeof value}]`;
  if (value === null || typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[too deep]';
  seen.add(value);
  try {
    if (value instanceof Error) {
      const error: Record<string, unknown> = { name: value.name, message: value.message };
      const code = (value as { code?: unknown }).code;
      if (code !== undefined) error['code'] = toLoggable(code, depth + 1, seen);
      if (value.stack) error['stack'] = value.stack;
      if (value.cause !== undefined) error['cause'] = toLoggable(value.cause, depth + 1, seen);
      return error;
    }
    if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
    if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
    if (Array.isArray(value)) return value.map((item) => toLoggable(item, depth + 1, seen));
    if (value instanceof Map) return toLoggable(Object.fromEntries(value), depth, seen);
    if (value instanceof Set) return toLoggable([...value], depth, seen);
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) copy[key] = toLoggable(item, depth + 1, seen);
    return copy;
  } finally {
    seen.delete(value);
  }
}

function writeToStderr(line: string): void {
  process.stderr.write(line);
}
