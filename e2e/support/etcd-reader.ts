import { Etcd3 } from 'etcd3';

/**
 * Reads what is stored in etcd the way `etcdctl get` would, to check that the Admin API keeps
 * APISIX's layout and JSON values.
 */
export interface EtcdReader {
  /** The raw stored string, or undefined when the key is absent. */
  get(key: string): Promise<string | undefined>;
  /** Every key under a prefix with its raw value, in key order. */
  list(prefix: string): Promise<ReadonlyArray<{ readonly key: string; readonly value: string }>>;
  close(): void;
}

export function createEtcdReader(clientUrl: string): EtcdReader {
  const client = new Etcd3({ hosts: clientUrl });
  return {
    async get(key) {
      return (await client.get(key).string()) ?? undefined;
    },
    async list(prefix) {
      const all = await client.getAll().prefix(prefix).strings();
      return Object.keys(all)
        .sort()
        .map((key) => ({ key, value: all[key] ?? '' }));
    },
    close: () => client.close(),
  };
}
