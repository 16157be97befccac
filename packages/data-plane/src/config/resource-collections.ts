import type { ChangeEvent, ResourceKind, StoredItem } from '@switchboard/core';
import type { Logger } from 'pino';
import { type LoadedItem, type LoadItemDeps, loadItem } from './load-item.js';
import { parseResourceKey, type ResourceKey } from './resource-key.js';

/** A loaded item plus its router insertion order (admin-api.md §6.2: key order at full load, then appended). */
export interface CollectedItem extends LoadedItem {
  readonly order: number;
  readonly resource: ResourceKey;
}

export type CollectionsView = Readonly<Record<ResourceKind, ReadonlyMap<string, CollectedItem>>>;

export interface ResourceCollections {
  /** Replaces everything with a full snapshot; resolves whether anything changed. */
  applySnapshot(items: readonly StoredItem[], revision: number): boolean;
  /** Applies ordered change events; resolves whether anything changed. */
  applyChanges(events: readonly ChangeEvent[]): boolean;
  view(): CollectionsView;
}

/**
 * Per-kind collections keyed by etcd key (admin-api.md §5.3). An invalid item is logged with its key
 * and skipped; the previous value of that key keeps serving (§5.3 step 4, §5.4 resync).
 */
export function createResourceCollections(options: {
  readonly prefix: string;
  readonly logger: Logger;
  readonly loadDeps: (key: string) => LoadItemDeps;
}): ResourceCollections {
  let collections = emptyCollections();
  let nextOrder = 0;
  let snapshotRevision = 0;

  /** Loads one stored item; undefined when it must not replace what `previous` holds. */
  function load(resource: ResourceKey, stored: StoredItem, order: number): CollectedItem | undefined {
    const result = loadItem(resource, stored, options.loadDeps(stored.key));
    switch (result.outcome) {
      case 'ignored':
        return undefined;
      case 'invalid':
        options.logger.warn(
          { key: stored.key, reason: result.message },
          'invalid config item skipped; the previous value keeps serving',
        );
        return undefined;
      case 'loaded':
        if (result.skippedPlugins.length > 0) {
          options.logger.warn({ key: stored.key, plugins: result.skippedPlugins }, 'unknown plugins skipped');
        }
        return { ...result.item, order, resource };
    }
  }

  return {
    applySnapshot(items, revision) {
      const next = emptyCollections();
      let changed = false;
      let order = 0;
      const sorted = [...items].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      for (const stored of sorted) {
        const resource = parseResourceKey(options.prefix, stored.key);
        if (resource === undefined) continue;
        const previous = collections[resource.kind].get(stored.key);
        const itemOrder = order++;
        if (previous !== undefined && previous.modRevision === stored.modRevision) {
          next[resource.kind].set(stored.key, { ...previous, order: itemOrder });
          continue;
        }
        const loaded = load(resource, stored, itemOrder);
        if (loaded !== undefined) changed = true;
        const kept = loaded ?? (previous === undefined ? undefined : { ...previous, order: itemOrder });
        if (kept !== undefined) next[resource.kind].set(stored.key, kept);
      }
      for (const kind of KINDS) {
        for (const key of collections[kind].keys()) if (!next[kind].has(key)) changed = true;
      }
      collections = next;
      nextOrder = order;
      snapshotRevision = revision;
      return changed;
    },

    applyChanges(events) {
      let changed = false;
      for (const event of events) {
        // Events at or below the snapshot revision are already part of it.
        if (event.type === 'put' ? event.item.modRevision <= snapshotRevision : event.modRevision <= snapshotRevision)
          continue;
        const key = event.type === 'put' ? event.item.key : event.key;
        const resource = parseResourceKey(options.prefix, key);
        if (resource === undefined) continue;
        const collection = collections[resource.kind];
        const previous = collection.get(key);
        if (event.type === 'delete') {
          if (collection.delete(key)) changed = true;
          continue;
        }
        if (previous?.modRevision === event.item.modRevision) continue;
        const loaded = load(resource, event.item, previous?.order ?? nextOrder++);
        if (loaded === undefined) continue;
        collection.set(key, loaded);
        changed = true;
      }
      return changed;
    },

    view() {
      return collections;
    },
  };
}

const KINDS: readonly ResourceKind[] = ['routes', 'services', 'upstreams', 'consumers', 'credentials'];

function emptyCollections(): Record<ResourceKind, Map<string, CollectedItem>> {
  return { routes: new Map(), services: new Map(), upstreams: new Map(), consumers: new Map(), credentials: new Map() };
}
