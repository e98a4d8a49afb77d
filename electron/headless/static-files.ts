// The built renderer (index.html and its assets) served to the browser. Only regular files inside
// the directory are served: no `..`, no encoded slashes or backslashes, no hidden files, and no
// symbolic link that leads outside.
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep, isAbsolute } from 'node:path';
import { contentSecurityPolicy } from '../../shared/content-security-policy';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
};

/**
 * The page's policy (shared/content-security-policy.ts): only our own scripts; inline styles
 * because Svelte sets some; the API and its WebSocket on the same origin only; never framed, no
 * plugins, no forms posting elsewhere.
 */
export const PAGE_CONTENT_SECURITY_POLICY = contentSecurityPolicy({ connect: 'self', delivery: 'header' });

/** Vite names these files after their content: a new build gives new names, so they never go stale. */
const IMMUTABLE_FOLDER = 'assets';

export type StaticOutcome = 'served' | 'notFound' | 'badPath';

/** A directory of static files, resolved once (symbolic links included) so containment checks are exact. */
export class StaticSite {
  private constructor(readonly root: string) {}

  /** Throws if `directory` does not exist or is not a directory. */
  static async open(directory: string): Promise<StaticSite> {
    const root = await realpath(directory);
    if (!(await stat(root)).isDirectory()) throw new Error(`${directory} is not a directory`);
    return new StaticSite(root);
  }

  /** Answers a GET or HEAD for `rawPath` (the request path, still percent-encoded, without the query). */
  async serve(rawPath: string, request: IncomingMessage, response: ServerResponse): Promise<StaticOutcome> {
    const segments = decodePathSegments(rawPath);
    if (!segments) return 'badPath';
    if (segments.length === 0 || rawPath.endsWith('/')) segments.push('index.html');
    const file = await this.resolve(segments);
    if (!file) return 'notFound';
    const name = segments[segments.length - 1]!;
    response.writeHead(200, {
      'content-type': CONTENT_TYPES[extname(name).toLowerCase()] ?? 'application/octet-stream',
      'content-length': file.size,
      'cache-control': segments[0] === IMMUTABLE_FOLDER && segments.length > 1 ? 'public, max-age=31536000, immutable' : 'no-cache',
      'last-modified': file.modified.toUTCString(),
      'content-security-policy': PAGE_CONTENT_SECURITY_POLICY,
    });
    if (request.method === 'HEAD') {
      response.end();
      return 'served';
    }
    await new Promise<void>((resolve) => {
      const stream = createReadStream(file.path);
      stream.on('error', () => {
        response.destroy();
        resolve();
      });
      response.on('close', () => {
        stream.destroy();
        resolve();
      });
      stream.pipe(response);
    });
    return 'served';
  }

  /** The regular file the segments name inside the root, or null. */
  private async resolve(segments: string[]): Promise<{ path: string; size: number; modified: Date } | null> {
    const candidate = join(this.root, ...segments);
    if (!isInside(this.root, candidate)) return null;
    try {
      const real = await realpath(candidate);
      if (!isInside(this.root, real)) return null;
      const info = await stat(real);
      if (!info.isFile()) return null;
      return { path: real, size: info.size, modified: info.mtime };
    } catch {
      return null;
    }
  }
}

/**
 * The path's segments, decoded, or null when the path is not acceptable: not absolute, badly
 * encoded, or naming `.`/`..`, a hidden file, or a segment with a slash, backslash or NUL in it
 * (as `%2F`, `%5C`, `%00`). Empty segments (`//`) are skipped.
 */
export function decodePathSegments(rawPath: string): string[] | null {
  if (!rawPath.startsWith('/')) return null;
  const segments: string[] = [];
  for (const raw of rawPath.split('/')) {
    if (raw === '') continue;
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment.startsWith('.') || /[/\\\0]/.test(segment)) return null;
    // Windows reads `C:` or `name:stream` specially; no built asset has a colon in its name.
    if (segment.includes(':')) return null;
    segments.push(segment);
  }
  return segments;
}

function isInside(root: string, path: string): boolean {
  const fromRoot = relative(root, path);
  return fromRoot !== '' && !fromRoot.startsWith(`..${sep}`) && fromRoot !== '..' && !isAbsolute(fromRoot);
}
