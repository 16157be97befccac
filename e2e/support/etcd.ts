import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.js';
import { findExecutable, startManagedProcess } from './server-process.js';

export interface EtcdOptions {
  /** The etcd binary; default: `etcd` on PATH, else /usr/bin/etcd. */
  readonly binary?: string;
  /** How long start-up may take before it is an error (default 20 s). */
  readonly startTimeoutMs?: number;
}

export interface EtcdInstance {
  /** `http://127.0.0.1:<port>`, stable across stop/start. */
  readonly clientUrl: string;
  readonly dataDir: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); data and ports are kept. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data dir and waits until it answers. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it and removes the data dir. */
  close(): Promise<void>;
}

/**
 * A real single-member etcd on free loopback ports with a temporary data dir, for tests that need
 * etcd's real revisions, compaction and outages (STYLE "Tests").
 *
 * @example
 *   const etcd = await startEtcd();
 *   const store = createEtcdStore({ hosts: [etcd.clientUrl], timeoutSeconds: 5 });
 *   await etcd.restart();
 */
export async function startEtcd(options: EtcdOptions = {}): Promise<EtcdInstance> {
  const dataDir = await mkdtemp(join(tmpdir(), 'sb-etcd-'));
  const clientPort = await freePort();
  let peerPort = await freePort();
  while (peerPort === clientPort) peerPort = await freePort();
  const clientUrl = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const name = 'switchboard-test';
  const args = [
    `--name=${name}`,
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=${name}=${peerUrl}`,
    '--initial-cluster-state=new',
    '--logger=zap',
    '--log-level=warn',
  ];

  const server = await startManagedProcess({
    label: 'etcd',
    address: clientUrl,
    binary: options.binary ?? findExecutable('etcd', '/usr/bin/etcd'),
    args,
    dir: dataDir,
    isReady: () => isHealthy(clientUrl),
    startTimeoutMs: options.startTimeoutMs ?? 20_000,
  });
  return { clientUrl, dataDir, ...server };
}

/** etcd 3.4's `/health` says `{"health":"true"}` once it has a leader and serves requests. */
async function isHealthy(clientUrl: string): Promise<boolean> {
  try {
    const response = await fetch(`${clientUrl}/health`, { signal: AbortSignal.timeout(1000) });
    const body = (await response.json()) as { health?: unknown };
    return response.ok && body.health === 'true';
  } catch {
    return false;
  }
}
