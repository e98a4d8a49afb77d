import type { Entry } from './types';

/** Fixed per-entry overhead counted against byte limits (index, term, type, framing). */
const ENTRY_OVERHEAD = 24;

/** Approximate encoded size of an entry, used to cap the bytes in one message or read. */
export function entrySize(entry: Entry): number {
  if (entry.type === 'normal') return ENTRY_OVERHEAD + entry.data.byteLength;
  let size = ENTRY_OVERHEAD + 8;
  for (const change of entry.change.changes) size += 8 + change.nodeId.length;
  return size;
}

/**
 * The longest prefix of `entries` whose total size stays within `maxBytes`, always at
 * least one entry so that an oversized entry still makes progress.
 */
export function limitSize<T extends Entry>(entries: T[], maxBytes: number): T[] {
  if (entries.length === 0) return entries;
  let size = entrySize(entries[0]!);
  let n = 1;
  for (; n < entries.length; n++) {
    size += entrySize(entries[n]!);
    if (size > maxBytes) break;
  }
  return n === entries.length ? entries : entries.slice(0, n);
}
