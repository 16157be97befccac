import { readFileSync } from 'node:fs';

/** Jiffies per core from /proc/stat, to tell which core was the bottleneck during a run. */
export type CpuSample = ReadonlyArray<{ readonly busy: number; readonly total: number }>;

export function sampleCpu(): CpuSample | undefined {
  let text: string;
  try {
    text = readFileSync('/proc/stat', 'utf8');
  } catch {
    return undefined;
  }
  return text
    .split('\n')
    .filter((line) => /^cpu\d+ /.test(line))
    .map((line) => {
      const [, ...fields] = line.trim().split(/\s+/);
      const values = fields.map(Number);
      const idle = (values[3] ?? 0) + (values[4] ?? 0);
      const total = values.slice(0, 8).reduce((sum, value) => sum + value, 0);
      return { busy: total - idle, total };
    });
}

/** Percent busy per core between two samples, e.g. [98, 61]. */
export function busyPercent(before: CpuSample | undefined, after: CpuSample | undefined): number[] {
  if (before === undefined || after === undefined) return [];
  return after.map((core, index) => {
    const start = before[index];
    if (start === undefined || core.total === start.total) return 0;
    return Math.round((100 * (core.busy - start.busy)) / (core.total - start.total));
  });
}
