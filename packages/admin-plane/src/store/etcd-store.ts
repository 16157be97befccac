import type { ConfigStore, ListResult, PutResult, StoredItem } from '@switchboard/core';
import type { IKeyValue } from 'etcd3';
import { Range } from 'etcd3';
import type { EtcdConnectionOptions } from './etcd-connection.js';
import { callEtcd, createEtcdClient } from './etcd-connection.js';

export type EtcdStoreOptions = EtcdConnectionOptions;

/**
 * The Admin API's ConfigStore on etcd v3, one etcd request per operation exactly as APISIX maps them
 * (admin-api.md §5.2): exact-key range, prefix range, put with prev_kv (its absence means 201), a txn
 * comparing mod_revision for PATCH, deleterange. Every call is bounded by `timeoutSeconds`; failures
 * are SB_ERR_STORE_UNAVAILABLE with etcd's error text.
 *
 * @example
 *   const store = createEtcdStore({ hosts: ['http://127.0.0.1:2379'], timeoutSeconds: 30 });
 *   const { created } = await store.put('/apisix/routes/1', JSON.stringify(route));
 */
export function createEtcdStore(options: EtcdStoreOptions): ConfigStore {
  const client = createEtcdClient(options);
  const timeoutMs = options.timeoutSeconds * 1000;
  const call = <T>(operation: string, request: () => Promise<T>): Promise<T> => callEtcd(operation, timeoutMs, request);

  const put = async (key: string, value: string, lease: string | undefined): Promise<PutResult> => {
    const response = await client.kv.put({
      key: Buffer.from(key),
      value: Buffer.from(value),
      prev_kv: true,
      ...(lease === undefined ? {} : { lease }),
    });
    const revision = Number(response.header.revision);
    // A put's own revision is the header revision; create_revision is kept from the previous kv.
    const previous = response.prev_kv as IKeyValue | null | undefined;
    const createRevision = previous ? Number(previous.create_revision) : revision;
    return { created: !previous, revision, item: { key, value, createRevision, modRevision: revision } };
  };

  return {
    get: (key) =>
      call('get', async () => {
        const response = await client.kv.range({ key: Buffer.from(key) });
        const kv = response.kvs[0];
        return kv === undefined ? undefined : toStoredItem(kv);
      }),
    list: (prefix) =>
      call('list', async (): Promise<ListResult> => {
        const range = Range.prefix(prefix);
        // etcd returns a range in byte order of keys unless told otherwise.
        const response = await client.kv.range({ key: range.start, range_end: range.end });
        return { items: response.kvs.map(toStoredItem), revision: Number(response.header.revision) };
      }),
    put: (key, value, putOptions) =>
      call('put', async () => {
        const ttlSeconds = putOptions?.ttlSeconds;
        if (ttlSeconds === undefined) return put(key, value, undefined);
        // `?ttl=`: grant a lease, then put with it (admin-api.md §5.2). etcd leases are whole seconds.
        const grant = await client.leaseClient.leaseGrant({ TTL: Math.max(1, Math.ceil(ttlSeconds)) });
        return put(key, value, grant.ID);
      }),
    putIfUnchanged: (key, value, modRevision) =>
      call('txn', async () => {
        const response = await client.kv.txn({
          compare: [{ key: Buffer.from(key), target: 'Mod', result: 'Equal', mod_revision: modRevision }],
          success: [{ request_put: { key: Buffer.from(key), value: Buffer.from(value) } }],
        });
        return response.succeeded;
      }),
    delete: (key) =>
      call('delete', async () => Number((await client.kv.deleteRange({ key: Buffer.from(key) })).deleted)),
    deletePrefix: (prefix) =>
      call('delete', async () => {
        const range = Range.prefix(prefix);
        return Number((await client.kv.deleteRange({ key: range.start, range_end: range.end })).deleted);
      }),
    async close() {
      client.close();
    },
  };
}

function toStoredItem(kv: IKeyValue): StoredItem {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}
