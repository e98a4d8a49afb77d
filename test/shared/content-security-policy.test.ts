// One Content-Security-Policy, three deliveries: the page's meta tag, the headless node's header,
// and the Electron session's header. They must not drift apart, and none may allow eval.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PAGE_CONTENT_SECURITY_POLICY } from '../../electron/headless/static-files';
import { contentSecurityPolicy } from '../../shared/content-security-policy';

const root = join(import.meta.dirname, '../..');

function metaPolicy(): string {
  const html = readFileSync(join(root, 'renderer/index.html'), 'utf8');
  const match = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]*)"/i.exec(html);
  if (!match) throw new Error('renderer/index.html has no Content-Security-Policy meta tag');
  return match[1]!;
}

function directives(policy: string): Map<string, string[]> {
  return new Map(policy.split(';').map((directive) => {
    const [name, ...sources] = directive.trim().split(/\s+/);
    return [name!, sources];
  }));
}

describe('the page’s Content-Security-Policy', () => {
  it('is the same in renderer/index.html as in shared/content-security-policy.ts', () => {
    expect(metaPolicy()).toBe(contentSecurityPolicy({ connect: 'self', delivery: 'meta' }));
  });

  it('is what the headless node sends with the page', () => {
    expect(PAGE_CONTENT_SECURITY_POLICY).toBe(contentSecurityPolicy({ connect: 'self', delivery: 'header' }));
  });

  it.each([
    ['the meta tag', metaPolicy()],
    ['the headless header', contentSecurityPolicy({ connect: 'self', delivery: 'header' })],
    ['the desktop header', contentSecurityPolicy({ connect: 'none', delivery: 'header' })],
  ])('%s runs only our own scripts and never evaluates text', (_, policy) => {
    const parsed = directives(policy);
    expect(parsed.get('script-src')).toEqual(["'self'"]);
    expect(parsed.get('default-src')).toEqual(["'self'"]);
    expect(parsed.get('object-src')).toEqual(["'none'"]);
    expect(parsed.get('base-uri')).toEqual(["'none'"]);
    expect(policy).not.toMatch(/unsafe-eval|wasm-unsafe-eval|\*/);
  });

  it('lets the desktop page connect nowhere (IPC is not a connection) and the served page only to its own origin', () => {
    expect(directives(contentSecurityPolicy({ connect: 'none', delivery: 'header' })).get('connect-src')).toEqual(["'none'"]);
    expect(directives(contentSecurityPolicy({ connect: 'self', delivery: 'header' })).get('connect-src')).toEqual(["'self'"]);
  });

  it('forbids framing in the headers only, where browsers honour it', () => {
    expect(directives(contentSecurityPolicy({ connect: 'none', delivery: 'header' })).get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives(metaPolicy()).has('frame-ancestors')).toBe(false);
  });
});
