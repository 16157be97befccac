import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemoryQuotaCounters } from '@switchboard/core';
import type { WorkerMessage } from '../src/process/ipc-messages.js';
import { createIpcQuotaCounters } from '../src/process/ipc-quota-counters.js';

/** The worker side of the `local` policy against a primary that answers like worker-supervisor.ts. */
describe('IPC quota counters (a worker reaching its node primary)', () => {
  const primary =
    (counters: MemoryQuotaCounters, deliver: () => ReturnType<typeof createIpcQuotaCounters>) =>
    (message: WorkerMessage): boolean => {
      queueMicrotask(async () => {
        if (message.sb === 'quota-reserve')
          deliver().deliver({
            sb: 'quota-reserved',
            id: message.id,
            reservation: await counters.reserve(message.request),
          });
        if (message.sb === 'quota-adjust') {
          await counters.adjust(message.request);
          deliver().deliver({ sb: 'quota-adjusted', id: message.id });
        }
      });
      return true;
    };

  it('reserves and settles on the primary counters, answered in order', async () => {
    const counters = new MemoryQuotaCounters(() => 1_000);
    const ipc: ReturnType<typeof createIpcQuotaCounters> = createIpcQuotaCounters(primary(counters, () => ipc));
    const first = await ipc.reserve({ key: 'k', windowMs: 60_000, limit: 30, amount: 25, check: true });
    assert.deepEqual([first.admitted, first.usedBefore], [true, 0]);
    await ipc.adjust({ key: 'k', windowMs: 60_000, delta: -15, windowId: first.windowId });
    const second = await ipc.reserve({ key: 'k', windowMs: 60_000, limit: 30, amount: 0, check: true });
    assert.equal(second.usedBefore, 10, 'the adjustment landed before the next reservation');
  });

  it('fails at once when the primary is gone, and close() fails what is pending', async () => {
    const gone = createIpcQuotaCounters(() => false);
    await assert.rejects(gone.reserve({ key: 'k', windowMs: 1, limit: 1, amount: 1, check: true }), {
      message: 'the node primary is not reachable',
    });
    const silent = createIpcQuotaCounters(() => true);
    const pending = silent.adjust({ key: 'k', windowMs: 1, delta: 1, windowId: '0' });
    silent.close();
    await assert.rejects(pending, { message: 'the data-plane worker is stopping' });
  });
});
