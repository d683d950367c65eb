/**
 * Bounding how long discovery waits: a source gets a budget and is told to stop when it is spent;
 * a caller can stop waiting for a lookup that others still share.
 */

/**
 * Runs `work` with a signal that aborts after `budgetMs`, and rejects with `overBudget()` at that
 * moment even if `work` ignores the signal (a late rejection of `work` is swallowed).
 */
export async function withinBudget<T>(work: (signal: AbortSignal) => Promise<T>, budgetMs: number, overBudget: () => Error): Promise<T> {
  const budget = new AbortController();
  const spent = new Promise<never>((_, reject) => {
    budget.signal.addEventListener('abort', () => reject(overBudget()), { once: true });
  });
  // Never keep a Lambda container (or a test run) alive just to time out a lookup.
  const timer = setTimeout(() => budget.abort(), budgetMs).unref();
  const running = work(budget.signal);
  running.catch(() => {});
  try {
    return await Promise.race([running, spent]);
  } finally {
    clearTimeout(timer);
  }
}

/** `promise`, unless `signal` aborts first: then rejects with `abandoned()` and leaves `promise` running. */
export function abandonable<T>(promise: Promise<T>, signal: AbortSignal | undefined, abandoned: () => Error): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abandoned());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abandoned());
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}
