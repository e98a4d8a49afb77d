// Light or dark: the system's choice (prefers-color-scheme) until the person picks one, which is
// remembered. The choice is set on <html data-theme>, which app.css reads.

export type Theme = 'light' | 'dark';
const KEY = 'quorum.theme';

export class ThemeManager {
  /** The person's own choice, or null to follow the system. */
  chosen = $state<Theme | null>(null);
  /** What the system prefers now. */
  system = $state<Theme>('light');
  readonly current: Theme = $derived(this.chosen ?? this.system);

  start(): void {
    const query = window.matchMedia('(prefers-color-scheme: dark)');
    this.system = query.matches ? 'dark' : 'light';
    query.addEventListener('change', (event) => (this.system = event.matches ? 'dark' : 'light'));
    try {
      const saved = localStorage.getItem(KEY);
      if (saved === 'light' || saved === 'dark') this.chosen = saved;
    } catch {
      this.chosen = null;
    }
    this.apply();
  }

  /** Switch to the other theme; switching back to what the system prefers follows the system again. */
  toggle(): void {
    const next: Theme = this.current === 'dark' ? 'light' : 'dark';
    this.chosen = next === this.system ? null : next;
    try {
      if (this.chosen) localStorage.setItem(KEY, this.chosen);
      else localStorage.removeItem(KEY);
    } catch {
      // Not remembered; it still applies now.
    }
    this.apply();
  }

  private apply(): void {
    if (this.chosen) document.documentElement.dataset['theme'] = this.chosen;
    else delete document.documentElement.dataset['theme'];
  }
}

export const theme = new ThemeManager();
