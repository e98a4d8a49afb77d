// Short messages for the person at the laptop: "Saved" (shown a few seconds in the status bar),
// or a sentence saying what went wrong (shown above the page until dismissed). Both are in live
// regions, so a screen reader reads them too.

export interface Notice {
  id: number;
  kind: 'info' | 'error';
  text: string;
}

const INFO_LIFETIME_MS = 5000;

export class NoticeManager {
  notices = $state<Notice[]>([]);
  readonly errors: Notice[] = $derived(this.notices.filter((notice) => notice.kind === 'error'));
  /** The newest information still fresh, or null. */
  readonly latestInfo: Notice | null = $derived(this.notices.findLast((notice) => notice.kind === 'info') ?? null);
  private nextId = 1;

  info(text: string): void {
    const id = this.add('info', text);
    setTimeout(() => this.dismiss(id), INFO_LIFETIME_MS);
  }

  /** Errors stay until dismissed: a teacher may be looking at the projector, not the laptop. */
  error(text: string): void {
    this.add('error', text);
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((notice) => notice.id !== id);
  }

  private add(kind: Notice['kind'], text: string): number {
    // The same sentence twice in a row is one notice.
    const same = this.notices.find((notice) => notice.text === text && notice.kind === kind);
    if (same) return same.id;
    const id = this.nextId++;
    this.notices = [...this.notices.slice(-4), { id, kind, text }];
    return id;
  }
}

export const notices = new NoticeManager();
