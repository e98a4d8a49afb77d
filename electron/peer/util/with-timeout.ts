/** `promise`, or a rejection after `ms` milliseconds; the timer never outlives the race. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what = 'the operation'): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
