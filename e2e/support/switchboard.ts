import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { stringify } from 'yaml';
import { guardChild } from './child-guard.js';
import { createLogTail } from './log-tail.js';
import {
  addressesOf,
  type ConfigObject,
  completeConfig,
  hasAdmin,
  hasProxy,
  type NodeAddresses,
  type SwitchboardRole,
} from './switchboard-config.js';

export type { ConfigObject, SwitchboardRole } from './switchboard-config.js';

/** The repository root (this file runs from e2e/dist/support/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = join(REPO_ROOT, 'bin', 'switchboard');

export interface StartSwitchboardOptions {
  readonly role: SwitchboardRole;
  /** config.yaml as an object; missing ports, admin key and worker count are filled in. */
  readonly config?: ConfigObject;
  /** Working directory of the process (default: the repository root). */
  readonly cwd?: string;
  /** How long start-up may take before it counts as failed (default 30 s). */
  readonly readyTimeoutMs?: number;
  /** Prepended to the command, e.g. `['taskset', '-c', '0']`. */
  readonly commandPrefix?: readonly string[];
  /** Extra environment; SWITCHBOARD_* variables of the test process are never passed on. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface SwitchboardNode extends NodeAddresses {
  readonly role: SwitchboardRole;
  /** The running process (replaced by `restart()`). */
  readonly process: ChildProcess;
  readonly configFile: string;
  readonly config: ConfigObject;
  /** stdout and stderr of every run so far (the last MiB). */
  logs(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; removes the temp dir. Resolves the exit code. Idempotent. */
  stop(options?: { readonly graceMs?: number }): Promise<number | null>;
  /** Stops the process (keeping its files) and starts it again with the same config file. */
  restart(): Promise<void>;
}

export class SwitchboardStartError extends Error {
  override readonly name = 'SwitchboardStartError';
}

/**
 * Runs `node bin/switchboard start --config <file>` and resolves once it is ready: the Admin API
 * answers `HEAD /apisix/admin` 200 and/or the status server answers `/status/ready` 200.
 * @example
 *   const cp = await startSwitchboard({ role: 'control_plane', config: { deployment: { etcd: { host: [etcd.clientUrl] } } } });
 *   t.after(() => cp.stop());
 */
export async function startSwitchboard(options: StartSwitchboardOptions): Promise<SwitchboardNode> {
  const workDir = await mkdtemp(join(tmpdir(), 'switchboard-e2e-'));
  const config = await completeConfig(options.role, options.config ?? {}, workDir);
  const configFile = join(workDir, 'config.yaml');
  await writeFile(configFile, stringify(config));
  const addresses = addressesOf(options.role, config);
  const logTail = createLogTail();
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;

  let child = spawnNode(options, configFile, logTail.append);
  let stopped = false;

  const terminate = async (graceMs: number): Promise<number | null> => {
    const current = child;
    if (current.exitCode !== null || current.signalCode !== null) return current.exitCode;
    const exited = once(current, 'exit');
    current.kill('SIGTERM');
    // A cleared timer, not a raced sleep: a pending sleep would keep the test process alive.
    const killer = setTimeout(() => {
      logTail.append(`[harness] no exit ${graceMs} ms after SIGTERM; sending SIGKILL\n`);
      current.kill('SIGKILL');
    }, graceMs);
    await exited;
    clearTimeout(killer);
    return current.exitCode;
  };

  const node: SwitchboardNode = {
    role: options.role,
    get process() {
      return child;
    },
    configFile,
    config,
    ...addresses,
    logs: () => logTail.text(),
    async stop(stopOptions) {
      const code = await terminate(stopOptions?.graceMs ?? 10_000);
      if (!stopped) {
        stopped = true;
        await rm(workDir, { recursive: true, force: true });
      }
      return code;
    },
    async restart() {
      await terminate(10_000);
      logTail.append('[harness] restarting\n');
      child = spawnNode(options, configFile, logTail.append);
      await waitForReady(node, child, readyTimeoutMs, logTail.text);
    },
  };

  try {
    await waitForReady(node, child, readyTimeoutMs, logTail.text);
  } catch (error) {
    await node.stop({ graceMs: 2000 });
    throw error;
  }
  return node;
}

function spawnNode(
  options: StartSwitchboardOptions,
  configFile: string,
  onOutput: (chunk: Buffer) => void,
): ChildProcess {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !name.startsWith('SWITCHBOARD_')) env[name] = value;
  }
  Object.assign(env, options.env);
  const [command, ...prefixArgs] = [...(options.commandPrefix ?? []), process.execPath];
  const child = spawn(command ?? process.execPath, [...prefixArgs, CLI, 'start', '--config', configFile], {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', onOutput);
  child.stderr?.on('data', onOutput);
  guardChild(child);
  return child;
}

async function waitForReady(
  node: NodeAddresses & { readonly role: SwitchboardRole },
  child: ChildProcess,
  timeoutMs: number,
  logs: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const checks: Array<() => Promise<boolean>> = [];
  if (hasAdmin(node.role) && node.adminUrl !== undefined) {
    checks.push(() => answers(`${node.adminUrl}/apisix/admin`, 'HEAD'));
  }
  if (hasProxy(node.role) && node.statusUrl !== undefined) {
    checks.push(() => answers(`${node.statusUrl}/status/ready`, 'GET'));
  }
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new SwitchboardStartError(
        `switchboard (${node.role}) exited with ${child.exitCode ?? child.signalCode} before it was ready:\n${excerpt(logs())}`,
      );
    }
    const results = await Promise.all(checks.map((check) => check()));
    if (results.every(Boolean)) return;
    if (Date.now() >= deadline) {
      throw new SwitchboardStartError(
        `switchboard (${node.role}) not ready after ${timeoutMs} ms:\n${excerpt(logs())}`,
      );
    }
    await sleep(50);
  }
}

async function answers(url: string, method: 'GET' | 'HEAD'): Promise<boolean> {
  try {
    const response = await request(url, { method, headersTimeout: 2000, bodyTimeout: 2000 });
    await response.body.dump();
    return response.statusCode === 200;
  } catch {
    return false;
  }
}

/** The start of the output (start-up lines, the reason for an exit) and its end (what happened last). */
function excerpt(text: string): string {
  return text.length > 6000 ? `${text.slice(0, 2500)}\n[…]\n${text.slice(-3500)}` : text;
}
