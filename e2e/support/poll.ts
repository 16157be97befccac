import { setTimeout as sleep } from 'node:timers/promises';

export interface PollOptions {
  readonly timeoutMs: number;
  /** Pause between attempts (default 25 ms). */
  readonly intervalMs?: number;
  /** Names what is awaited in the timeout error. */
  readonly description?: string;
}

export class PollTimeoutError extends Error {
  override readonly name = 'PollTimeoutError';
}

/**
 * Calls `attempt` until it returns something other than undefined/false, or the deadline passes.
 * A thrown error counts as "not yet" and is reported if the deadline passes.
 * @example const route = await pollUntil(async () => (await get()).status === 200 || undefined, { timeoutMs: 5000 });
 */
export async function pollUntil<T>(
  attempt: () => Promise<T | undefined | false> | T | undefined | false,
  options: PollOptions,
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await attempt();
      if (result !== undefined && result !== false) return result;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const what = options.description ?? 'condition';
      const suffix =
        lastError === undefined
          ? ''
          : `; last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
      throw new PollTimeoutError(`timed out after ${options.timeoutMs} ms waiting for ${what}${suffix}`, {
        cause: lastError,
      });
    }
    await sleep(options.intervalMs ?? 25);
  }
}
