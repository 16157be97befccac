import { setTimeout as sleep } from 'node:timers/promises';
import type { ChangeEvent, ConfigListener, ConfigSource, StoredItem } from '@switchboard/core';
import type { Etcd3 } from 'etcd3';
import { Range } from 'etcd3';
import type { Logger } from 'pino';
import type { EtcdConnectionOptions } from './etcd-connection.js';
import { createEtcdClient, toStoredItem } from './etcd-connection.js';
import type { WatchEnd } from './etcd-prefix-watch.js';
import { openPrefixWatch } from './etcd-prefix-watch.js';

export interface EtcdConfigSourceOptions extends EtcdConnectionOptions {
  /** `deployment.etcd.resync_delay` (default 5): the pause before retrying after a failure. */
  readonly resyncDelaySeconds: number;
  /** Jitter source in [0, 1); up to 50% of the delay is added so replicas do not retry in step. */
  readonly random?: () => number;
  readonly logger: Pick<Logger, 'info' | 'warn' | 'error'>;
}

/** Keys per range request of the snapshot; pages are read at one pinned revision. */
const SNAPSHOT_PAGE_SIZE = 500;

/**
 * The data plane's ConfigSource on etcd (admin-api.md §5.3–5.4, §5.7): range the whole prefix
 * (snapshot + revision) → `onSnapshot` → watch from revision+1 → `onChanges` per watch response.
 * - connection lost: `onError`, wait resync_delay + jitter, resume the watch from the last applied
 *   revision (no event lost or repeated); the plane keeps serving what it has meanwhile;
 * - compacted start revision, a watch canceled by etcd, or etcd's revision below ours (wiped or
 *   replaced): full re-read → `onSnapshot`, then watch from the new revision;
 * - etcd down at start: keep retrying, never throw.
 * Values are passed through as stored, placeholders (`init_dir`) and the `/apisix/plugins` array
 * included: the plane decides per resource kind what it accepts and ignores non-objects (§5.1).
 *
 * @example
 *   const source = createEtcdConfigSource({ hosts: ['http://127.0.0.1:2379'], timeoutSeconds: 30,
 *     resyncDelaySeconds: 5, logger });
 *   source.start('/apisix/', { onSnapshot(items, revision) {}, onChanges(events, revision) {} });
 */
export function createEtcdConfigSource(options: EtcdConfigSourceOptions): ConfigSource {
  const client = createEtcdClient(options);
  const random = options.random ?? Math.random;
  const { logger } = options;
  const timeoutMs = options.timeoutSeconds * 1000;
  const stopping = new AbortController();
  let running: Promise<void> | undefined;
  let stopWatch: (() => void) | undefined;

  const pause = async (): Promise<void> => {
    const delayMs = options.resyncDelaySeconds * 1000 * (1 + 0.5 * random());
    await sleep(delayMs, undefined, { signal: stopping.signal }).catch(() => undefined);
  };

  async function run(prefix: string, listener: ConfigListener): Promise<void> {
    const deliver = createDelivery(listener, logger);
    const range = Range.prefix(prefix);
    let appliedRevision: number | undefined;
    while (!stopping.signal.aborted) {
      try {
        if (appliedRevision === undefined) {
          const snapshot = await readSnapshot(client, range);
          if (stopping.signal.aborted) return;
          appliedRevision = snapshot.revision;
          deliver.snapshot(snapshot.items, snapshot.revision);
        }
        const end = await watchUntilEnd(range, appliedRevision, (events) => {
          // Never move backwards or repeat: a resumed watch starts after what was applied.
          const fresh = events.filter((event) => eventRevision(event) > (appliedRevision ?? 0));
          const last = fresh.at(-1);
          if (last === undefined) return;
          appliedRevision = eventRevision(last);
          deliver.changes(fresh, appliedRevision);
        });
        if (end.kind === 'stopped') return;
        if (end.kind === 'failed') throw end.error;
        logger.warn(
          { prefix, reason: describe(end), revision: appliedRevision },
          'etcd watch ended; re-reading the whole prefix',
        );
        appliedRevision = undefined;
        if (end.kind === 'canceled') await pause(); // e.g. permission denied: do not spin
      } catch (error) {
        if (stopping.signal.aborted) return;
        const failure = error instanceof Error ? error : new Error(String(error));
        logger.warn(
          { prefix, error: failure.message, revision: appliedRevision },
          'etcd unavailable; retrying after resync_delay',
        );
        deliver.error(failure);
        await pause();
      }
    }
  }

  async function watchUntilEnd(
    range: Range,
    appliedRevision: number,
    onEvents: (events: readonly ChangeEvent[]) => void,
  ): Promise<WatchEnd> {
    const watch = await openPrefixWatch(client, {
      range,
      appliedRevision,
      createTimeoutMs: timeoutMs,
      onCreated: () => logger.info({ revision: appliedRevision }, 'etcd watch established'),
      onEvents,
    });
    stopWatch = watch.stop;
    if (stopping.signal.aborted) watch.stop();
    try {
      return await watch.ended;
    } finally {
      stopWatch = undefined;
    }
  }

  return {
    start(prefix, listener) {
      if (running !== undefined) throw new Error('this etcd config source was already started');
      running = run(prefix, listener);
    },
    async close() {
      stopping.abort();
      stopWatch?.();
      client.close(); // fails a range or watch creation still in flight, so the loop ends now
      await running;
    },
  };
}

/** Reads every key under `range` at one revision, page by page. */
async function readSnapshot(client: Etcd3, range: Range): Promise<{ items: StoredItem[]; revision: number }> {
  const items: StoredItem[] = [];
  let start = range.start;
  let revision: number | undefined;
  for (;;) {
    const response = await client.kv.range({
      key: start,
      range_end: range.end,
      limit: SNAPSHOT_PAGE_SIZE,
      ...(revision === undefined ? {} : { revision }),
    });
    revision ??= Number(response.header.revision);
    items.push(...response.kvs.map(toStoredItem));
    const last = response.kvs.at(-1);
    if (!response.more || last === undefined) return { items, revision };
    start = Buffer.concat([last.key, Buffer.from([0])]); // the next key after `last`
  }
}

/** Calls the listener, keeping a throwing listener from breaking the sync loop. */
function createDelivery(listener: ConfigListener, logger: Pick<Logger, 'error'>) {
  const guarded = (what: string, call: () => void): void => {
    try {
      call();
    } catch (error) {
      logger.error({ error: String(error) }, `config listener ${what} threw`);
    }
  };
  return {
    snapshot: (items: readonly StoredItem[], revision: number) =>
      guarded('onSnapshot', () => listener.onSnapshot(items, revision)),
    changes: (events: readonly ChangeEvent[], revision: number) =>
      guarded('onChanges', () => listener.onChanges(events, revision)),
    error: (error: Error) => guarded('onError', () => listener.onError?.(error)),
  };
}

function eventRevision(event: ChangeEvent): number {
  return event.type === 'put' ? event.item.modRevision : event.modRevision;
}

function describe(end: Exclude<WatchEnd, { kind: 'stopped' | 'failed' }>): string {
  switch (end.kind) {
    case 'compacted':
      return `revision compacted (compact revision ${end.compactRevision})`;
    case 'restarted':
      return `etcd revision went backwards to ${end.serverRevision}`;
    case 'canceled':
      return `watch canceled: ${end.reason || 'no reason given'}`;
  }
}
