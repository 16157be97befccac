import assert from 'node:assert/strict';
import type { QuotaCounterStore, QuotaReservation } from '@switchboard/core';
import { pollUntil } from './poll.js';

/**
 * One table of behaviours every QuotaCounterStore must share (core's quota-counter-store.ts): the
 * `local` memory store and the `redis*` stores run the same cases, so a policy change never changes
 * what a quota does. Window ends are awaited by polling a short window, never by sleeping.
 */

export interface QuotaConformanceContext {
  readonly store: QuotaCounterStore;
  /** A counter key no other case uses, shaped like real ones (`/`, `#`, dots in instance names). */
  key(name: string): string;
}

export interface QuotaConformanceCase {
  readonly name: string;
  run(context: QuotaConformanceContext): Promise<void>;
}

/** Long enough that no case sees it end by accident. */
export const LONG_WINDOW_MS = 60_000;
/** Short enough to wait for; cases poll until it has ended. */
export const SHORT_WINDOW_MS = 300;
const WINDOW_END_DEADLINE_MS = 10_000;

/** Reserves `amount` against `limit` in a long window. */
function reserve(
  store: QuotaCounterStore,
  key: string,
  amount: number,
  limit = 30,
  overrides: { check?: boolean; windowMs?: number } = {},
): Promise<QuotaReservation> {
  return store.reserve({ key, windowMs: LONG_WINDOW_MS, limit, amount, check: true, ...overrides });
}

/** What the counter holds now, without charging it (a dry run, as APISIX's access check). */
async function usedNow(store: QuotaCounterStore, key: string): Promise<number> {
  return (await reserve(store, key, 0, 1, { check: false })).usedBefore;
}

/** Polls until the window of `key` has ended (a dry run then reports usedBefore 0). */
export async function waitForWindowEnd(store: QuotaCounterStore, key: string): Promise<void> {
  await pollUntil(async () => (await usedNow(store, key)) === 0, {
    timeoutMs: WINDOW_END_DEADLINE_MS,
    intervalMs: 50,
    description: `the window of ${key} to end`,
  });
}

export const QUOTA_CONFORMANCE_CASES: readonly QuotaConformanceCase[] = [
  {
    name: 'a new counter opens a full window and admits the first reserve',
    async run({ store, key }) {
      const first = await reserve(store, key('new'), 10);
      assert.equal(first.admitted, true);
      assert.equal(first.usedBefore, 0);
      assert.equal(first.resetMs, LONG_WINDOW_MS);
      assert.equal(typeof first.windowId, 'string');
    },
  },
  {
    name: 'reserves add up in one window until the limit; a rejected reserve adds nothing',
    async run({ store, key }) {
      const counter = key('accumulate');
      const results = [];
      for (let index = 0; index < 5; index += 1) results.push(await reserve(store, counter, 10, 30));
      assert.deepEqual(
        results.map(({ admitted, usedBefore }) => [admitted, usedBefore]),
        [
          [true, 0],
          [true, 10],
          [true, 20],
          [false, 30],
          [false, 30],
        ],
      );
      assert.equal(new Set(results.map((result) => result.windowId)).size, 1, 'one window');
      for (const [index, result] of results.entries()) {
        assert.ok(result.resetMs > 0 && result.resetMs <= (results[index - 1]?.resetMs ?? LONG_WINDOW_MS));
      }
    },
  },
  {
    name: 'a reserve is admitted while used < limit, so one request may overshoot (APISIX)',
    async run({ store, key }) {
      const counter = key('overshoot');
      assert.equal((await reserve(store, counter, 25, 30)).admitted, true);
      const second = await reserve(store, counter, 25, 30);
      assert.deepEqual([second.admitted, second.usedBefore], [true, 25]);
      const third = await reserve(store, counter, 1, 30);
      assert.deepEqual([third.admitted, third.usedBefore], [false, 50]);
    },
  },
  {
    name: 'check: false always adds, even past the limit',
    async run({ store, key }) {
      const counter = key('unchecked');
      await reserve(store, counter, 10, 10);
      const unchecked = await reserve(store, counter, 5, 10, { check: false });
      assert.deepEqual([unchecked.admitted, unchecked.usedBefore], [true, 10]);
      const checked = await reserve(store, counter, 0, 10);
      assert.deepEqual([checked.admitted, checked.usedBefore], [false, 15]);
    },
  },
  {
    name: 'a dry run consumes nothing, and an unused window is re-armed to a full window (QUIRK §8.4)',
    async run({ store, key }) {
      const counter = key('dry-run');
      for (let index = 0; index < 3; index += 1) {
        const dry = await reserve(store, counter, 0, 1);
        assert.deepEqual([dry.admitted, dry.usedBefore, dry.resetMs], [true, 0, LONG_WINDOW_MS]);
      }
    },
  },
  {
    name: 'a charged window keeps its id and its end across reserves',
    async run({ store, key }) {
      const counter = key('stable');
      const charged = await reserve(store, counter, 5);
      const later = await reserve(store, counter, 0);
      assert.equal(later.windowId, charged.windowId);
      assert.ok(later.resetMs <= charged.resetMs);
    },
  },
  {
    name: 'a live window keeps the length it was opened with',
    async run({ store, key }) {
      const counter = key('length');
      const opened = await reserve(store, counter, 10);
      const asked = await reserve(store, counter, 0, 30, { windowMs: SHORT_WINDOW_MS });
      assert.equal(asked.windowId, opened.windowId);
      assert.ok(asked.resetMs > SHORT_WINDOW_MS, `resetMs ${asked.resetMs} follows the window's own length`);
    },
  },
  {
    name: "adjust settles within the reservation's window and never below 0",
    async run({ store, key }) {
      const counter = key('settle');
      const { windowId } = await reserve(store, counter, 20);
      await store.adjust({ key: counter, windowMs: LONG_WINDOW_MS, delta: -5, windowId });
      assert.equal(await usedNow(store, counter), 15);
      await store.adjust({ key: counter, windowMs: LONG_WINDOW_MS, delta: 7, windowId });
      assert.equal(await usedNow(store, counter), 22);
      await store.adjust({ key: counter, windowMs: LONG_WINDOW_MS, delta: -100, windowId });
      assert.equal(await usedNow(store, counter), 0);
    },
  },
  {
    name: 'adjust on a live window of another id: a charge is added, a give-back dropped',
    async run({ store, key }) {
      const counter = key('other-id');
      await reserve(store, counter, 10);
      await store.adjust({ key: counter, windowMs: LONG_WINDOW_MS, delta: 5, windowId: 'another' });
      assert.equal(await usedNow(store, counter), 15);
      await store.adjust({ key: counter, windowMs: LONG_WINDOW_MS, delta: -5, windowId: 'another' });
      assert.equal(await usedNow(store, counter), 15);
    },
  },
  {
    name: 'adjust without a window: a charge opens one, a give-back or a zero delta does nothing',
    async run({ store, key }) {
      const charged = key('adjust-opens');
      await store.adjust({ key: charged, windowMs: LONG_WINDOW_MS, delta: 8, windowId: 'gone' });
      const after = await reserve(store, charged, 0);
      assert.equal(after.usedBefore, 8);
      assert.ok(after.resetMs > 0 && after.resetMs <= LONG_WINDOW_MS);

      const untouched = key('adjust-nothing');
      await store.adjust({ key: untouched, windowMs: LONG_WINDOW_MS, delta: -8, windowId: 'gone' });
      await store.adjust({ key: untouched, windowMs: LONG_WINDOW_MS, delta: 0, windowId: 'gone' });
      assert.equal(await usedNow(store, untouched), 0);
    },
  },
  {
    name: 'a window ends after its length and the counter starts again from 0',
    async run({ store, key }) {
      const counter = key('ends');
      const first = await reserve(store, counter, 30, 30, { windowMs: SHORT_WINDOW_MS });
      await waitForWindowEnd(store, counter);
      const next = await reserve(store, counter, 10, 30, { windowMs: SHORT_WINDOW_MS });
      assert.deepEqual([next.admitted, next.usedBefore], [true, 0]);
      assert.notEqual(next.windowId, first.windowId);
    },
  },
  {
    name: 'a late settle never credits the next window: a give-back is dropped, a charge goes to the current one',
    async run({ store, key }) {
      const counter = key('late-settle');
      const old = await reserve(store, counter, 10, 30, { windowMs: SHORT_WINDOW_MS });
      await waitForWindowEnd(store, counter);
      const current = await reserve(store, counter, 5);
      await store.adjust({ key: counter, windowMs: LONG_WINDOW_MS, delta: -10, windowId: old.windowId });
      assert.equal(await usedNow(store, counter), 5);
      await store.adjust({ key: counter, windowMs: LONG_WINDOW_MS, delta: 7, windowId: old.windowId });
      const settled = await reserve(store, counter, 0);
      assert.deepEqual([settled.usedBefore, settled.windowId], [12, current.windowId]);
    },
  },
  {
    name: 'counters are independent per key',
    async run({ store, key }) {
      await reserve(store, key('gpt-4.1'), 10);
      await reserve(store, key('gpt-4-1'), 3);
      assert.equal(await usedNow(store, key('gpt-4.1')), 10);
      assert.equal(await usedNow(store, key('gpt-4')), 0);
      assert.equal(await usedNow(store, key('gpt-4-1')), 3);
    },
  },
  {
    name: 'amounts keep their exact value (fractions, beyond 32 bits)',
    async run({ store, key }) {
      const counter = key('exact');
      await reserve(store, counter, 1.5, 2 ** 50);
      await reserve(store, counter, 2 ** 40, 2 ** 50);
      assert.equal(await usedNow(store, counter), 1.5 + 2 ** 40);
    },
  },
  {
    name: 'concurrent reserves admit exactly what the limit allows (atomic check-and-add)',
    async run({ store, key }) {
      const counter = key('concurrent');
      const results = await Promise.all(Array.from({ length: 50 }, () => reserve(store, counter, 10, 100)));
      const admitted = results.filter((result) => result.admitted);
      assert.equal(admitted.length, 10);
      assert.deepEqual(
        admitted.map((result) => result.usedBefore).sort((a, b) => a - b),
        [0, 10, 20, 30, 40, 50, 60, 70, 80, 90],
      );
      assert.ok(results.filter((result) => !result.admitted).every((result) => result.usedBefore === 100));
      assert.equal(await usedNow(store, counter), 100);
    },
  },
];

/** Keys unique to one run and one case, shaped like the plugin's counter keys. */
export function conformanceKeys(run: string): (caseIndex: number) => (name: string) => string {
  return (caseIndex) => (name) => `/apisix/routes/${run}-${caseIndex}:conf.hash#${name}`;
}
