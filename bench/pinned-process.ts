import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { guardChild } from '@switchboard/e2e/dist/support/child-guard.js';
import { REPO_ROOT } from '@switchboard/e2e/dist/support/switchboard.js';

/** `taskset -c <cpu>` when the machine has taskset and that core; otherwise no pinning. */
export function pinTo(
  cpu: number,
  available: { readonly taskset: boolean; readonly cores: number },
): readonly string[] {
  return available.taskset && cpu < available.cores ? ['taskset', '-c', String(cpu)] : [];
}

export interface PinnedProcess {
  readonly process: ChildProcess;
  /** The match of the readiness pattern in the process's stdout. */
  readonly ready: RegExpMatchArray;
  stop(): Promise<void>;
}

/**
 * Spawns `node <script> …args` (optionally under taskset) from the repo root and resolves once a
 * line of its stdout matches `readyPattern`.
 */
export async function startNodeProcess(options: {
  readonly prefix: readonly string[];
  readonly script: string;
  readonly args: readonly string[];
  readonly readyPattern: RegExp;
  readonly timeoutMs?: number;
}): Promise<PinnedProcess> {
  const child = spawnNode(options.prefix, options.script, options.args);
  let output = '';
  const ready = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${options.script} not ready: ${output}`)),
      options.timeoutMs ?? 15_000,
    );
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      const match = options.readyPattern.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(match);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${options.script} exited with ${code}: ${output}`));
    });
  });
  return {
    process: child,
    ready,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(killer);
    },
  };
}

/** Runs `node <script> …args` to completion and resolves its stdout (rejects on a non-zero exit). */
export async function runNodeProcess(
  prefix: readonly string[],
  script: string,
  args: readonly string[],
): Promise<string> {
  const child = spawnNode(prefix, script, args);
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString('utf8');
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`${script} exited with ${code}: ${stderr}`);
  return stdout;
}

function spawnNode(prefix: readonly string[], script: string, args: readonly string[]): ChildProcess {
  const [command, ...prefixArgs] = [...prefix, process.execPath];
  const child = spawn(command ?? process.execPath, [...prefixArgs, script, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  guardChild(child);
  return child;
}
