import type { ChangeEvent } from '@switchboard/core';
import type { Etcd3, IEvent, IWatchResponse, Range } from 'etcd3';
import { toStoredItem } from './etcd-connection.js';

/**
 * One etcd watch on a prefix over a raw gRPC watch stream. etcd3's own Watcher is not used: on
 * reconnect it moves its start revision to the *current* header revision (not the last event
 * seen), which can skip events (APISIX bug #13067), it turns a compaction cancel into a plain
 * error without `compact_revision`, and it never notices that etcd's revision went backwards.
 * Here each way a watch can end is a value the source decides on (admin-api.md §5.4).
 */
export type WatchEnd =
  /** The start revision was compacted: re-read everything. */
  | { readonly kind: 'compacted'; readonly compactRevision: number }
  /** etcd answers with a revision below what we already applied: it was wiped or replaced. */
  | { readonly kind: 'restarted'; readonly serverRevision: number }
  /** etcd canceled the watch for another reason (e.g. permission denied). */
  | { readonly kind: 'canceled'; readonly reason: string }
  /** The connection or stream failed. */
  | { readonly kind: 'failed'; readonly error: Error }
  /** `stop()` was called. */
  | { readonly kind: 'stopped' };

export interface PrefixWatchOptions {
  readonly range: Range;
  /** The last revision already applied; the watch starts at the next one. */
  readonly appliedRevision: number;
  /** How long etcd may take to confirm the watch. */
  readonly createTimeoutMs: number;
  /** Called once etcd confirmed the watch. */
  readonly onCreated: () => void;
  /** The events of one watch response, in revision order. */
  readonly onEvents: (events: readonly ChangeEvent[]) => void;
}

export interface PrefixWatch {
  readonly ended: Promise<WatchEnd>;
  stop(): void;
}

export async function openPrefixWatch(client: Etcd3, options: PrefixWatchOptions): Promise<PrefixWatch> {
  const stream = await client.watchClient.watch();
  let settle: (end: WatchEnd) => void = () => undefined;
  const ended = new Promise<WatchEnd>((resolve) => {
    settle = resolve;
  });
  let finished = false;
  const finish = (end: WatchEnd): void => {
    if (finished) return;
    finished = true;
    clearTimeout(createTimer);
    settle(end);
    cancelStream(stream);
  };
  const createTimer = setTimeout(
    () =>
      finish({
        kind: 'failed',
        error: new Error(`etcd did not confirm the watch within ${options.createTimeoutMs} ms`),
      }),
    options.createTimeoutMs,
  );

  const onResponse = (response: IWatchResponse): void => {
    if (finished) return;
    if (response.canceled) {
      const compactRevision = Number(response.compact_revision);
      finish(
        compactRevision > 0
          ? { kind: 'compacted', compactRevision }
          : { kind: 'canceled', reason: response.cancel_reason },
      );
      return;
    }
    if (response.created) {
      // Only the created response reliably carries etcd's current revision (a compaction cancel
      // carries 0). Below what we applied means etcd lost history: wiped or replaced (§5.4).
      const serverRevision = Number(response.header.revision);
      if (serverRevision < options.appliedRevision) {
        finish({ kind: 'restarted', serverRevision });
        return;
      }
      clearTimeout(createTimer);
      options.onCreated();
    }
    if (response.events.length > 0) options.onEvents(response.events.map(toChangeEvent));
  };

  stream.on('data', onResponse);
  // A listener stays attached after finish: a cancelled gRPC stream still emits 'error' (CANCELLED).
  stream.on('error', (error) => finish({ kind: 'failed', error }));
  stream.on('end', () => finish({ kind: 'failed', error: new Error('the etcd watch stream ended') }));
  stream.write({
    create_request: {
      key: options.range.start,
      range_end: options.range.end,
      start_revision: options.appliedRevision + 1,
    },
  });
  return { ended, stop: () => finish({ kind: 'stopped' }) };
}

function toChangeEvent(event: IEvent): ChangeEvent {
  const item = toStoredItem(event.kv);
  return event.type === 'Delete'
    ? { type: 'delete', key: item.key, modRevision: item.modRevision }
    : { type: 'put', item };
}

function cancelStream(stream: object): void {
  // The gRPC duplex stream has cancel(); etcd3's type only declares write/end/on.
  if ('cancel' in stream && typeof stream.cancel === 'function') stream.cancel();
}
