import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { guardChild } from './child-guard.js';
import { createLogTail } from './log-tail.js';
import { pollUntil } from './poll.js';
import { freePort } from './ports.js';

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
  const binary = options.binary ?? findEtcdBinary();
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
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

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    if (child !== undefined) throw new Error('etcd is already running');
    const output = createLogTail(64 * 1024);
    const spawned = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = spawned;
    guardChild(spawned);
    spawned.stdout?.on('data', (chunk: Buffer) => output.append(chunk));
    spawned.stderr?.on('data', (chunk: Buffer) => output.append(chunk));
    exited = new Promise((resolve) => {
      spawned.once('exit', () => resolve());
      spawned.once('error', () => resolve());
    });
    let spawnFailure: Error | undefined;
    spawned.once('error', (error) => {
      spawnFailure = error;
    });
    try {
      await pollUntil(
        async () => {
          if (spawned.exitCode !== null) throw new Error(`etcd exited with code ${spawned.exitCode}: ${output.text()}`);
          if (spawnFailure !== undefined) throw spawnFailure;
          return isHealthy(clientUrl);
        },
        { timeoutMs: startTimeoutMs, intervalMs: 50, description: `etcd at ${clientUrl} to answer` },
      );
    } catch (error) {
      await stop();
      throw new Error(`${(error as Error).message}\n${output.text()}`, { cause: error });
    }
  };

  const stop = async (): Promise<void> => {
    const running = child;
    if (running === undefined) return;
    child = undefined;
    if (running.exitCode === null && running.signalCode === null) {
      running.kill('SIGTERM');
      const killer = setTimeout(() => running.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    }
  };

  await start();
  return {
    clientUrl,
    dataDir,
    stop,
    start,
    async restart() {
      await stop();
      await start();
    },
    async close() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function findEtcdBinary(): string {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (directory !== '' && isExecutable(join(directory, 'etcd'))) return join(directory, 'etcd');
  }
  return '/usr/bin/etcd';
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
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
