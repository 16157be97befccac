import { type AdminClient, admin } from './admin-client.js';
import { type EtcdInstance, startEtcd } from './etcd.js';
import { createEtcdReader, type EtcdReader } from './etcd-reader.js';
import { type ConfigObject, type SwitchboardNode, startSwitchboard } from './switchboard.js';

export interface ClusterOptions {
  /** Data-plane replicas (default 2), each with one worker. */
  readonly dataPlanes?: number;
  /** Merged into `deployment.etcd` of every node (e.g. `{ resync_delay: 1 }`). */
  readonly etcd?: ConfigObject;
  /** Extra config for the control plane (deep keys are not merged: give whole sections). */
  readonly controlPlaneConfig?: ConfigObject;
  /** Extra config for every data plane, e.g. `{ nginx_config: { worker_processes: 1, http: {...} } }`. */
  readonly dataPlaneConfig?: ConfigObject;
  readonly commandPrefix?: {
    readonly controlPlane?: readonly string[];
    readonly dataPlane?: readonly string[];
  };
}

export interface Cluster {
  readonly etcd: EtcdInstance;
  readonly controlPlane: SwitchboardNode;
  readonly dataPlanes: readonly SwitchboardNode[];
  /** An Admin API client for the control plane with its admin key. */
  readonly admin: AdminClient;
  /** Reads etcd directly (etcdctl-style). */
  readonly etcdReader: EtcdReader;
  /** The proxy URL of every data plane. */
  readonly proxyUrls: readonly string[];
  /** Stops every process and removes every temp dir; safe to call after a failed start. */
  close(): Promise<void>;
}

/**
 * A real etcd, one control plane and N data-plane replicas, each its own `bin/switchboard` process.
 * @example
 *   const cluster = await startCluster();
 *   after(() => cluster.close());
 *   await cluster.admin.put('/routes/1', route);
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const etcd = await startEtcd();
  const started: SwitchboardNode[] = [];
  const etcdReader = createEtcdReader(etcd.clientUrl);
  const close = async (): Promise<void> => {
    await Promise.all(started.map((node) => node.stop()));
    etcdReader.close();
    await etcd.close();
  };
  try {
    const etcdSection = { host: [etcd.clientUrl], prefix: '/apisix', ...options.etcd };
    const controlPlaneStart = startSwitchboard({
      role: 'control_plane',
      config: {
        ...options.controlPlaneConfig,
        deployment: { ...deploymentOf(options.controlPlaneConfig), etcd: etcdSection },
      },
      ...(options.commandPrefix?.controlPlane ? { commandPrefix: options.commandPrefix.controlPlane } : {}),
    }).then((node) => {
      started.push(node);
      return node;
    });
    const dataPlaneStarts = Array.from({ length: options.dataPlanes ?? 2 }, () =>
      startSwitchboard({
        role: 'data_plane',
        config: {
          ...options.dataPlaneConfig,
          deployment: { ...deploymentOf(options.dataPlaneConfig), etcd: etcdSection },
        },
        ...(options.commandPrefix?.dataPlane ? { commandPrefix: options.commandPrefix.dataPlane } : {}),
      }).then((node) => {
        started.push(node);
        return node;
      }),
    );
    const settled = await Promise.allSettled([controlPlaneStart, ...dataPlaneStarts]);
    const failure = settled.find((result) => result.status === 'rejected');
    if (failure !== undefined) throw failure.reason;
    const controlPlane = await controlPlaneStart;
    const dataPlanes = await Promise.all(dataPlaneStarts);
    if (controlPlane.adminUrl === undefined) throw new Error('the control plane has no admin URL');
    return {
      etcd,
      controlPlane,
      dataPlanes,
      admin: admin(controlPlane.adminUrl, controlPlane.adminKey),
      etcdReader,
      proxyUrls: dataPlanes.map((node) => node.proxyUrl ?? ''),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

function deploymentOf(config: ConfigObject | undefined): ConfigObject {
  const deployment = config?.deployment;
  return typeof deployment === 'object' && deployment !== null && !Array.isArray(deployment)
    ? (deployment as ConfigObject)
    : {};
}
