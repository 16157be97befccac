import type { StoredItem } from '@switchboard/core';
import type { IKeyValue, IOptions } from 'etcd3';
import { Etcd3 } from 'etcd3';

/** `deployment.etcd` as a data plane needs it (admin-api.md §5.1). */
export interface EtcdConnectionOptions {
  /** `http://127.0.0.1:2379` style; `https://` switches to TLS. */
  readonly hosts: readonly string[];
  /** `deployment.etcd.timeout`: the longest a range read (or a watch creation) may take. */
  readonly timeoutSeconds: number;
  readonly user?: string;
  readonly password?: string;
}

type HostPolicy = ReturnType<NonNullable<NonNullable<IOptions['faultHandling']>['host']>>;

/**
 * etcd3's default per-host circuit breaker keeps failing calls for 5 s after etcd is back; the
 * source has its own resync schedule (admin-api.md §5.4), so calls go straight through.
 * etcd3's pool only ever calls `execute`.
 */
const callThroughPolicy = {
  execute: <T>(call: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> =>
    new Promise<T>((resolve) => resolve(call({ signal: new AbortController().signal }))),
} as unknown as HostPolicy;

/** Long enough that etcd's keepalive enforcement (min 5 s) never sends GOAWAY. */
const KEEPALIVE_INTERVAL_MS = 30_000;

/**
 * Unary calls carry a gRPC deadline of `timeoutSeconds`. The watch stream has none, so HTTP/2
 * keepalive pings detect a peer that vanished without closing the connection.
 */
export function createEtcdClient(options: EtcdConnectionOptions): Etcd3 {
  const timeoutMs = options.timeoutSeconds * 1000;
  return new Etcd3({
    hosts: [...options.hosts],
    dialTimeout: timeoutMs,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    faultHandling: { host: () => callThroughPolicy },
    grpcOptions: {
      // The snapshot of thousands of routes can exceed gRPC's default 4 MB receive limit.
      'grpc.max_receive_message_length': -1,
      'grpc.keepalive_time_ms': KEEPALIVE_INTERVAL_MS,
      'grpc.keepalive_timeout_ms': timeoutMs,
      'grpc.keepalive_permit_without_calls': 1,
    },
    ...(options.user === undefined
      ? {}
      : {
          auth: {
            username: options.user,
            password: options.password ?? '',
            callOptions: () => ({ deadline: Date.now() + timeoutMs }),
          },
        }),
  });
}

/** etcd3 gives revisions as decimal strings; the contract wants numbers (admin-api.md §5.2). */
export function toStoredItem(kv: IKeyValue): StoredItem {
  return {
    key: kv.key.toString('utf8'),
    value: kv.value.toString('utf8'),
    createRevision: Number(kv.create_revision),
    modRevision: Number(kv.mod_revision),
  };
}
