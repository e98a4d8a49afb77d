// Schemas for values parsed from JSON, checked at every boundary (the HTTP API, the IPC bridge,
// and commands in the replicated log) with one small set of combinators. Each check returns a
// sentence naming what is wrong, or null. Runs anywhere: no Node, Electron or DOM imports.

/** Checks that a value parsed from JSON has type T. */
export interface Schema<T> {
  /** What is wrong with `value` (named by `path`), or null when it is a T. */
  check(value: unknown, path: string): string | null;
  /** Never set: carries T for the compiler. */
  readonly type?: T;
}
/** The type a schema checks for. */
export type Infer<S> = S extends Schema<infer T> ? T : never;
export type AnySchema = Schema<unknown>;

export const text: Schema<string> = {
  check: (value, path) => {
    if (typeof value !== 'string') return `${path} must be text`;
    // JSON may carry half a surrogate pair ("\ud800"); UTF-8 cannot, so SQLite would keep
    // replacement characters instead of what was sent. (\p{Cs} matches only a lone half.)
    return /\p{Cs}/u.test(value) ? `${path} must be text without half of a surrogate pair` : null;
  },
};

export const flag: Schema<boolean> = {
  check: (value, path) => (typeof value === 'boolean' ? null : `${path} must be true or false`),
};

export const count: Schema<number> = {
  check: (value, path) =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? null : `${path} must be a whole number, 0 or more`,
};

export function literal<L extends string>(expected: L): Schema<L> {
  return { check: (value, path) => (value === expected ? null : `${path} must be ${JSON.stringify(expected)}`) };
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An object with exactly the `required` fields, any of the `optional` ones, and nothing else. */
// NoInfer: the field types come from the arguments, never from the type the caller expects back.
export function object<R extends Record<string, AnySchema>, O extends Record<string, AnySchema> = {}>(
  required: R,
  optional?: O,
): Schema<{ [K in keyof NoInfer<R>]: Infer<NoInfer<R>[K]> } & { [K in keyof NoInfer<O>]?: Infer<NoInfer<O>[K]> }> {
  const optionalFields: Record<string, AnySchema> = optional ?? {};
  return {
    check(value, path) {
      if (!isRecord(value)) return `${path} must be an object`;
      for (const [name, schema] of Object.entries(required)) {
        if (!Object.hasOwn(value, name)) return `${path}.${name} is missing`;
        const problem = schema.check(value[name], `${path}.${name}`);
        if (problem) return problem;
      }
      for (const name of Object.keys(value)) {
        if (Object.hasOwn(required, name)) continue;
        const schema = Object.hasOwn(optionalFields, name) ? optionalFields[name] : undefined;
        if (!schema) return unexpectedField(path, name);
        const problem = schema.check(value[name], `${path}.${name}`);
        if (problem) return problem;
      }
      return null;
    },
  };
}

/** How much of an unexpected field's name a refusal shows. */
const MAX_SHOWN_NAME = 24;

/**
 * The refusal of a field the schema does not know. Its name is the caller's text, so it is shown
 * as typed only when it is a plain name; anything else is quoted, cut short and shown in ASCII,
 * so the message stays one short readable line (not a megabyte, a line break or a bidi override).
 */
function unexpectedField(path: string, name: string): string {
  if (/^[A-Za-z_$][A-Za-z0-9_$]{0,39}$/.test(name)) return `${path}.${name} is not expected here`;
  const shown = JSON.stringify(name.slice(0, MAX_SHOWN_NAME)).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${path} has a field ${shown}${name.length > MAX_SHOWN_NAME ? '…' : ''} that is not expected here`;
}

/** How much of a list of allowed kinds an error names. */
const MAX_LISTED = 160;

/** One of several objects, told apart by the text field `tag`. */
export function tagged<V extends Record<string, AnySchema>>(tag: string, variants: V): Schema<Infer<V[keyof V]>> {
  const all = Object.keys(variants).map((name) => JSON.stringify(name));
  // A long list is cut, so the message stays a sentence someone reads.
  const names = all.join(' or ').length <= MAX_LISTED ? all.join(' or ') : `one of ${all.length} kinds (${all.join(', ').slice(0, MAX_LISTED)}…)`;
  return {
    check(value, path) {
      if (!isRecord(value)) return `${path} must be an object`;
      const kind = value[tag];
      if (typeof kind !== 'string' || !Object.hasOwn(variants, kind)) return `${path}.${tag} must be ${names}`;
      return variants[kind]!.check(value, path);
    },
  };
}


/** Text of at most `max` characters (UTF-16 code units), not empty unless `allowEmpty`. */
export function boundedText(max: number, options: { allowEmpty?: boolean } = {}): Schema<string> {
  return {
    check(value, path) {
      const problem = text.check(value, path);
      if (problem) return problem;
      const length = (value as string).length;
      if (length === 0 && !options.allowEmpty) return `${path} must not be empty`;
      return length > max ? `${path} must be at most ${max} characters` : null;
    },
  };
}

/** A whole number between `min` and `max`. */
export function wholeNumber(min: number, max: number): Schema<number> {
  return {
    check: (value, path) =>
      typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max
        ? null
        : `${path} must be a whole number from ${min} to ${max}`,
  };
}

/** A finite number between `min` and `max` (fractions allowed: a score of 7.5). */
export function finiteNumber(min: number, max: number): Schema<number> {
  return {
    check: (value, path) =>
      typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max ? null : `${path} must be a number from ${min} to ${max}`,
  };
}

/** `schema`'s value or null. */
export function nullable<T>(schema: Schema<T>): Schema<T | null> {
  return { check: (value, path) => (value === null ? null : schema.check(value, path)) };
}

/** A list of at most `max` values of `schema`. */
export function list<T>(schema: Schema<T>, max: number): Schema<T[]> {
  return {
    check(value, path) {
      if (!Array.isArray(value)) return `${path} must be a list`;
      if (value.length > max) return `${path} must hold at most ${max} items`;
      for (const [i, item] of value.entries()) {
        const problem = schema.check(item, `${path}[${i}]`);
        if (problem) return problem;
      }
      return null;
    },
  };
}

/** One of the given texts. */
export function oneOf<L extends string>(...allowed: L[]): Schema<L> {
  const names = allowed.map((a) => JSON.stringify(a)).join(' or ');
  return { check: (value, path) => (typeof value === 'string' && (allowed as string[]).includes(value) ? null : `${path} must be ${names}`) };
}

/** Text matching `pattern` (anchor it); `description` completes "must be …". */
export function matching(pattern: RegExp, description: string): Schema<string> {
  return { check: (value, path) => (typeof value === 'string' && pattern.test(value) ? null : `${path} must be ${description}`) };
}
