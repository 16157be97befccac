import { SwitchboardError } from '../errors.js';
import type { ChangeEvent, ConfigSource, ConfigStore, ListResult, PutResult, StoredItem } from './contract.js';
import type { LogRecord, PersistedItem, StoreWarningLogger } from './embedded-store-files.js';
import { applyRecord, openStoreFiles } from './embedded-store-files.js';
import { createSubscriberSet } from './embedded-store-subscribers.js';

export type { StoreWarningLogger } from './embedded-store-files.js';

export interface EmbeddedStore extends ConfigStore, ConfigSource {}

export interface StoreTimer {
  cancel(): void;
}

/** Time for ttl leases, injected so tests advance it instead of sleeping. */
export interface StoreClock {
  /** Epoch milliseconds. */
  now(): number;
  /** Calls `callback` once after `delayMs`; must not keep the process alive on its own. */
  setTimer(callback: () => void, delayMs: number): StoreTimer;
}

export interface EmbeddedStoreOptions {
  /** `deployment.embedded.data_dir`; created when missing. */
  readonly dataDir: string;
  readonly clock?: StoreClock;
  /** Torn-line and lease warnings; pino's logger fits. Defaults to `process.emitWarning`. */
  readonly logger?: StoreWarningLogger;
}

/** The log is folded into the snapshot after this many records, so reopening stays fast. */
const COMPACT_AFTER_RECORDS = 10_000;
/** setTimeout's ceiling; longer leases re-arm when the timer fires early. */
const MAX_TIMER_DELAY_MS = 2_147_483_647;

export function createSystemStoreClock(): StoreClock {
  return {
    now: () => Date.now(),
    setTimer(callback, delayMs) {
      const timer = setTimeout(callback, Math.min(Math.max(delayMs, 0), MAX_TIMER_DELAY_MS));
      timer.unref();
      return { cancel: () => clearTimeout(timer) };
    },
  };
}

/**
 * An etcd-like revisioned store persisted under `dataDir`, for the `traditional` role without etcd
 * (architecture.md "Processes per role"). Same semantics as etcd v3 as APISIX uses it (admin-api.md §5.2):
 * one global revision bumped per write, create/mod revisions per key, key-ordered ranges, leases, and
 * change events delivered in revision order to every started ConfigSource listener. Writes go through
 * one queue and are fsynced before they resolve.
 *
 * @example
 *   const store = await createEmbeddedStore({ dataDir: '/var/lib/switchboard' });
 *   const { created, revision } = await store.put('/apisix/routes/1', '{"uri":"/v1/chat"}');
 *   store.start('/apisix/', { onSnapshot(items, rev) {}, onChanges(events, rev) {} });
 */
export async function createEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  const clock = options.clock ?? createSystemStoreClock();
  const logger = options.logger ?? {
    warn: (details, message) => process.emitWarning(`${message} ${JSON.stringify(details)}`),
  };
  const { state, files } = await openStoreFiles(options.dataDir, logger);
  const subscribers = createSubscriberSet((error) =>
    logger.warn({ error: String(error) }, 'embedded store: a config listener threw'),
  );
  const leaseTimers = new Map<string, StoreTimer>();
  let closed = false;
  let queueTail: Promise<unknown> = Promise.resolve();

  const assertOpen = (): void => {
    if (closed) throw new SwitchboardError('SB_ERR_STORE_UNAVAILABLE', 'the embedded store is closed');
  };

  /** Runs writes one at a time, in call order. */
  const serialise = <T>(operation: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new SwitchboardError('SB_ERR_STORE_UNAVAILABLE', 'the embedded store is closed'));
    const result = queueTail.then(operation);
    queueTail = result.catch(() => undefined);
    return result;
  };

  const armLease = (item: PersistedItem): void => {
    leaseTimers.get(item.key)?.cancel();
    leaseTimers.delete(item.key);
    const expiresAt = item.expiresAt;
    if (expiresAt === undefined || closed) return;
    const timer = clock.setTimer(() => {
      leaseTimers.delete(item.key);
      expire(item.key, expiresAt);
    }, expiresAt - clock.now());
    leaseTimers.set(item.key, timer);
  };

  /** Appends, applies to memory, publishes: a write is visible only once it is durable. */
  const commit = async (records: readonly LogRecord[]): Promise<readonly ChangeEvent[]> => {
    try {
      await files.append(records);
    } catch (error) {
      throw new SwitchboardError(
        'SB_ERR_STORE_UNAVAILABLE',
        `embedded store write failed: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    const events = records.map((record): ChangeEvent => {
      const item = applyRecord(state, record);
      if (item === undefined) {
        leaseTimers.get(record.key)?.cancel();
        leaseTimers.delete(record.key);
        return { type: 'delete', key: record.key, modRevision: record.rev };
      }
      armLease(item);
      return { type: 'put', item: toStoredItem(item) };
    });
    subscribers.publish(events);
    if (files.recordsSinceCompaction >= COMPACT_AFTER_RECORDS) {
      await files
        .compact(state)
        .catch((error: unknown) =>
          logger.warn({ error: String(error) }, 'embedded store: compaction failed; the log keeps growing'),
        );
    }
    return events;
  };

  const putRecord = (key: string, value: string, ttlSeconds: number | undefined): LogRecord => {
    const rev = state.revision + 1;
    return {
      rev,
      op: 'put',
      key,
      value,
      createRevision: state.items.get(key)?.createRevision ?? rev,
      ...(ttlSeconds === undefined ? {} : { expiresAt: clock.now() + ttlSeconds * 1000 }),
    };
  };

  const deleteKeys = async (keys: readonly string[]): Promise<number> => {
    // etcd deletes a range at one revision; here each deletion gets its own so every event has one.
    const records = keys.map((key, index): LogRecord => ({ rev: state.revision + 1 + index, op: 'delete', key }));
    if (records.length > 0) await commit(records);
    return records.length;
  };

  function expire(key: string, expiresAt: number): void {
    if (closed) return;
    serialise(async () => {
      const item = state.items.get(key);
      if (item?.expiresAt !== expiresAt) return; // rewritten or deleted since the lease was armed
      if (clock.now() < expiresAt) armLease(item);
      else await deleteKeys([key]);
    }).catch((error: unknown) => {
      if (!closed) logger.warn({ key, error: String(error) }, 'embedded store: expiring a ttl key failed');
    });
  }

  for (const item of state.items.values()) armLease(item);

  return {
    async get(key) {
      assertOpen();
      const item = state.items.get(key);
      return item === undefined ? undefined : toStoredItem(item);
    },
    async list(prefix): Promise<ListResult> {
      assertOpen();
      return { items: itemsUnder(state.items, prefix), revision: state.revision };
    },
    put(key, value, putOptions) {
      const ttlSeconds = putOptions?.ttlSeconds;
      if (ttlSeconds !== undefined && !(Number.isFinite(ttlSeconds) && ttlSeconds > 0)) {
        return Promise.reject(new RangeError(`ttlSeconds must be a positive number, got ${ttlSeconds}`));
      }
      return serialise(async (): Promise<PutResult> => {
        const created = !state.items.has(key);
        const [event] = await commit([putRecord(key, value, ttlSeconds)]);
        if (event?.type !== 'put') throw new Error('unreachable: a put produced no put event');
        return { created, revision: event.item.modRevision, item: event.item };
      });
    },
    putIfUnchanged(key, value, modRevision) {
      return serialise(async () => {
        // As etcd's compare(MOD, key, EQUAL, n): 0 matches a key that does not exist.
        if ((state.items.get(key)?.modRevision ?? 0) !== modRevision) return false;
        await commit([putRecord(key, value, undefined)]);
        return true;
      });
    },
    delete(key) {
      return serialise(() => deleteKeys(state.items.has(key) ? [key] : []));
    },
    deletePrefix(prefix) {
      return serialise(() => deleteKeys(itemsUnder(state.items, prefix).map((item) => item.key)));
    },
    start(prefix, listener) {
      assertOpen();
      subscribers.add(prefix, listener, itemsUnder(state.items, prefix), state.revision);
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const timer of leaseTimers.values()) timer.cancel();
      leaseTimers.clear();
      subscribers.clear();
      await queueTail;
      await files.close();
    },
  };
}

function toStoredItem(item: PersistedItem): StoredItem {
  return { key: item.key, value: item.value, createRevision: item.createRevision, modRevision: item.modRevision };
}

/** Items whose key starts with `prefix`, in etcd's byte order (not UTF-16 order). */
function itemsUnder(items: ReadonlyMap<string, PersistedItem>, prefix: string): StoredItem[] {
  const matching: StoredItem[] = [];
  for (const item of items.values()) if (item.key.startsWith(prefix)) matching.push(toStoredItem(item));
  return matching.sort((a, b) => Buffer.compare(Buffer.from(a.key), Buffer.from(b.key)));
}
