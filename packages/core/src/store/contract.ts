/**
 * The config-store contract both planes depend on. It mirrors the part of etcd v3 that APISIX uses,
 * so an etcd-backed and an embedded implementation are interchangeable (STYLE §7).
 * Keys are absolute, prefix included (`/apisix/routes/1`); values are the raw stored strings.
 */

/** One stored key, as etcd returns it (create_revision → createRevision, mod_revision → modRevision). */
export interface StoredItem {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
}

export type ChangeEvent =
  | { readonly type: 'put'; readonly item: StoredItem }
  | { readonly type: 'delete'; readonly key: string; readonly modRevision: number };

export interface ListResult {
  /** In key order (byte-lexicographic), like an etcd range. */
  readonly items: readonly StoredItem[];
  /** The store revision at read time (etcd header revision). */
  readonly revision: number;
}

export interface PutResult {
  /** true when the key did not exist before (Admin API answers 201 instead of 200). */
  readonly created: boolean;
  /** The revision of this write; POST id generation formats it as 20 digits. */
  readonly revision: number;
  readonly item: StoredItem;
}

/** What the Admin API reads and writes through. */
export interface ConfigStore {
  get(key: string): Promise<StoredItem | undefined>;
  list(prefix: string): Promise<ListResult>;
  /** `ttlSeconds` binds the key to a lease: it disappears after that many seconds (`?ttl=`). */
  put(key: string, value: string, options?: { readonly ttlSeconds?: number }): Promise<PutResult>;
  /** Compare-and-swap on the mod revision (PATCH). Resolves false when the key changed meanwhile. */
  putIfUnchanged(key: string, value: string, modRevision: number): Promise<boolean>;
  /** Resolves the number of keys deleted (0 or 1). */
  delete(key: string): Promise<number>;
  /** Deletes every key that starts with `prefix`; resolves the count. */
  deletePrefix(prefix: string): Promise<number>;
  close(): Promise<void>;
}

/** What a data plane reads: a full snapshot, then ordered changes (STYLE §7). */
export interface ConfigSource {
  /**
   * Starts syncing everything under `prefix`. `onSnapshot` is called with the full state once loaded
   * and again after every resync (compaction, watch cancel, store restart); `onChanges` with events in
   * revision order. While the store is away the source keeps retrying and the plane keeps serving.
   */
  start(prefix: string, listener: ConfigListener): void;
  close(): Promise<void>;
}

export interface ConfigListener {
  onSnapshot(items: readonly StoredItem[], revision: number): void;
  onChanges(events: readonly ChangeEvent[], revision: number): void;
  /** The store became unreachable or a watch broke; the source is already retrying. */
  onError?(error: Error): void;
}
