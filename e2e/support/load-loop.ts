import { request } from 'undici';

export interface LoadLoopOptions {
  /** Requests go to these base URLs in turn. */
  readonly urls: readonly string[];
  readonly path: string;
  readonly body: object;
  /** Requests in flight at once (default 2). */
  readonly concurrency?: number;
  /** What counts as success (default: status 200). */
  readonly accept?: (status: number) => boolean;
}

export interface LoadStats {
  readonly ok: number;
  readonly failed: number;
  /** The first few failures, for the assertion message. */
  readonly failures: readonly string[];
}

export interface LoadLoop {
  stats(): LoadStats;
  /** Resolves once `ok` reached at least `count` (checks after every request). */
  untilOk(count: number): Promise<void>;
  /** Stops issuing requests and resolves the final stats once the in-flight ones finished. */
  stop(): Promise<LoadStats>;
}

/**
 * Closed-loop traffic for outage tests: each of `concurrency` loops sends its next request as soon
 * as the previous one finished, and every non-accepted answer or transport error is counted.
 */
export function startLoadLoop(options: LoadLoopOptions): LoadLoop {
  const accept = options.accept ?? ((status: number) => status === 200);
  const body = JSON.stringify(options.body);
  const failures: string[] = [];
  let ok = 0;
  let failed = 0;
  let next = 0;
  let running = true;
  const waiters: Array<{ count: number; resolve: () => void }> = [];

  const settleWaiters = (): void => {
    for (const waiter of [...waiters]) {
      if (ok >= waiter.count) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  };
  const fail = (description: string): void => {
    failed++;
    if (failures.length < 10) failures.push(description);
  };

  const loop = async (): Promise<void> => {
    while (running) {
      const url = `${options.urls[next++ % options.urls.length]}${options.path}`;
      try {
        const response = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const text = await response.body.text();
        if (accept(response.statusCode)) ok++;
        else fail(`${url}: ${response.statusCode} ${text.slice(0, 200)}`);
      } catch (error) {
        fail(`${url}: ${error instanceof Error ? error.message : String(error)}`);
      }
      settleWaiters();
    }
  };
  const loops = Array.from({ length: options.concurrency ?? 2 }, loop);
  const stats = (): LoadStats => ({ ok, failed, failures: [...failures] });

  return {
    stats,
    untilOk(count) {
      if (ok >= count) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ count, resolve }));
    },
    async stop() {
      running = false;
      await Promise.all(loops);
      return stats();
    },
  };
}
