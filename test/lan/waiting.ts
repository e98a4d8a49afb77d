// Waiting on a LAN of many laptops, for the LAN suite and the deadline-burst benchmark: poll until
// a condition holds, say every so often what is still missing, and give up with the last reason.

/** What a probe returns while its condition does not hold yet: why, for the progress and timeout messages. */
export class NotYet {
  constructor(readonly why: string) {}
}

export interface WaitOptions {
  /** Where the progress lines go. */
  say: (message: string) => void;
  /** How often to say what is still missing. */
  progressEveryMs: number;
  /** Added to progress and timeout messages: what the machine did wrong meanwhile, if anything. */
  trouble?: () => string;
  intervalMs?: number;
}

/** Polls `probe` until it gives a value; throws with its last reason after `timeoutMs`. */
export async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | NotYet>, options: WaitOptions): Promise<T> {
  const since = Date.now();
  let nextReport = since + options.progressEveryMs;
  let why = 'never probed';
  const trouble = options.trouble ?? (() => '');
  for (;;) {
    try {
      const value = await probe();
      if (!(value instanceof NotYet)) return value;
      why = value.why;
    } catch (error) {
      why = `probe failed: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (Date.now() - since > timeoutMs) throw new Error(`gave up after ${timeoutMs / 1000} s waiting for ${what}; last: ${why}${trouble()}`);
    if (Date.now() >= nextReport) {
      options.say(`still waiting for ${what} after ${((Date.now() - since) / 1000).toFixed(0)} s: ${why}${trouble()}`);
      nextReport += options.progressEveryMs;
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 250));
  }
}
