import { SwitchboardError } from '@switchboard/core';
import type { IOptions } from 'etcd3';
import { Etcd3 } from 'etcd3';

/** `deployment.etcd` as the Admin API needs it (admin-api.md §5.1). */
export interface EtcdConnectionOptions {
  /** `http://127.0.0.1:2379` style; `https://` switches to TLS. */
  readonly hosts: readonly string[];
  /** `deployment.etcd.timeout`: the longest any single store call may take. */
  readonly timeoutSeconds: number;
  readonly user?: string;
  readonly password?: string;
}

type HostPolicy = ReturnType<NonNullable<NonNullable<IOptions['faultHandling']>['host']>>;

/**
 * etcd3 guards each host with a circuit breaker that keeps failing calls for 5 s after etcd is back.
 * Our callers already turn a failure into a 503 and retry on their own schedule, so the breaker only
 * delays recovery; this policy calls straight through. Only `execute` is used by etcd3's pool.
 */
const callThroughPolicy = {
  execute: <T>(call: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> =>
    new Promise<T>((resolve) => resolve(call({ signal: new AbortController().signal }))),
} as unknown as HostPolicy;

/** Unary calls carry a gRPC deadline of `timeoutSeconds`; the watch stream has none. */
export function createEtcdClient(options: EtcdConnectionOptions): Etcd3 {
  const timeoutMs = options.timeoutSeconds * 1000;
  return new Etcd3({
    hosts: [...options.hosts],
    dialTimeout: timeoutMs,
    defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    faultHandling: { host: () => callThroughPolicy },
    // A list of thousands of routes can exceed gRPC's default 4 MB receive limit.
    grpcOptions: { 'grpc.max_receive_message_length': -1 },
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

/**
 * Runs one etcd call bounded by `timeoutMs` (etcd3's own retries can outlast a single deadline) and
 * maps every failure to SB_ERR_STORE_UNAVAILABLE carrying etcd's text, which the Admin API answers as
 * `503 {"error_msg": "<etcd error>"}` (admin-api.md §5.7).
 */
export async function callEtcd<T>(operation: string, timeoutMs: number, call: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`etcd ${operation} timed out after ${timeoutMs / 1000}s`)), timeoutMs);
  });
  try {
    return await Promise.race([call(), timeout]);
  } catch (error) {
    if (error instanceof SwitchboardError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new SwitchboardError('SB_ERR_STORE_UNAVAILABLE', message, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
