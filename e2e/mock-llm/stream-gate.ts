/**
 * Permits for `gated-stream`: the mock sends a chunk only after a test released one. A test that
 * reads chunk N through the gateway before releasing chunk N+1 proves the gateway relays chunk by
 * chunk without relying on timing. Releases made before anyone waits are kept as permits.
 */
export interface StreamGate {
  /** Resolves true when a permit was taken, false when the gate was closed. */
  wait(): Promise<boolean>;
  release(count?: number): void;
  /** Wakes every waiter with false; later waits resolve false at once. */
  close(): void;
}

export function createStreamGate(): StreamGate {
  let permits = 0;
  let closed = false;
  const waiters: Array<(granted: boolean) => void> = [];
  return {
    wait() {
      if (closed) return Promise.resolve(false);
      if (permits > 0) {
        permits--;
        return Promise.resolve(true);
      }
      return new Promise((resolve) => waiters.push(resolve));
    },
    release(count = 1) {
      for (let index = 0; index < count; index++) {
        const waiter = waiters.shift();
        if (waiter) waiter(true);
        else permits++;
      }
    },
    close() {
      closed = true;
      for (const waiter of waiters.splice(0)) waiter(false);
    },
  };
}
