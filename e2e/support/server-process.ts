import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { rm } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { guardChild } from './child-guard.js';
import { createLogTail } from './log-tail.js';
import { pollUntil } from './poll.js';

/**
 * A third-party server (etcd, redis-server) run as a child of the test process: spawned with its
 * output kept for the error message, polled until it answers, stoppable and startable again with the
 * same arguments (so on the same ports and dir) for outage tests, and killed with the test process.
 */
export interface ManagedProcessOptions {
  /** Names the server in errors, e.g. `etcd`, `redis-cluster`. */
  readonly label: string;
  /** Where it listens, for errors, e.g. `127.0.0.1:6379` or `http://127.0.0.1:2379`. */
  readonly address: string;
  readonly binary: string;
  readonly args: readonly string[];
  /** Its temp dir: owned from here on, removed by `close()` or when the first start fails. */
  readonly dir: string;
  /** True once the server serves requests; a throw or false means "not yet". */
  isReady(): Promise<boolean>;
  readonly startTimeoutMs: number;
}

export interface ManagedProcess {
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); the dir is kept. */
  stop(): Promise<void>;
  /** Starts it again with the same arguments and waits until it answers. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it and removes its dir. */
  close(): Promise<void>;
}

const STOP_GRACE_MS = 5000;
const OUTPUT_TAIL_BYTES = 64 * 1024;

/**
 * Spawns the server and resolves once `isReady` says so; on failure the error carries the server's
 * recent output and the dir is removed.
 * @example
 *   const server = await startManagedProcess({ label: 'redis', address: `127.0.0.1:${port}`, binary,
 *     args, dir, isReady: () => answersPing(port), startTimeoutMs: 20_000 });
 *   await server.restart();
 */
export async function startManagedProcess(options: ManagedProcessOptions): Promise<ManagedProcess> {
  const { label, address, binary, args, dir } = options;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const start = async (): Promise<void> => {
    if (child !== undefined) throw new Error(`${label} is already running`);
    const output = createLogTail(OUTPUT_TAIL_BYTES);
    const spawned = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = spawned;
    guardChild(spawned);
    spawned.stdout?.on('data', (chunk: Buffer) => output.append(chunk));
    spawned.stderr?.on('data', (chunk: Buffer) => output.append(chunk));
    let spawnFailure: Error | undefined;
    exited = new Promise((resolve) => {
      spawned.once('exit', () => resolve());
      spawned.once('error', (error) => {
        spawnFailure = error;
        resolve();
      });
    });
    try {
      await pollUntil(
        async () => {
          if (spawnFailure !== undefined) throw spawnFailure;
          if (spawned.exitCode !== null) throw new Error(`${label} exited with code ${spawned.exitCode}`);
          return options.isReady();
        },
        { timeoutMs: options.startTimeoutMs, intervalMs: 50, description: `${label} at ${address} to answer` },
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
      const killer = setTimeout(() => running.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(killer);
    }
  };

  try {
    await start();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    stop,
    start,
    async restart() {
      await stop();
      await start();
    },
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The first executable `command` on PATH, else `fallback`. */
export function findExecutable(command: string, fallback: string): string {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (directory !== '' && isExecutable(join(directory, command))) return join(directory, command);
  }
  return fallback;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
