import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface BenchEnvironment {
  readonly taskset: boolean;
  readonly cores: number;
}

/** Whether pinning is possible here; without taskset or a second core the benchmark runs unpinned. */
export function detectEnvironment(): BenchEnvironment {
  const taskset = spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;
  return { taskset, cores: availableParallelism() };
}
