#!/usr/bin/env node
// Benchmark entry (`npm run bench`, or `node bench/run.mjs [throughput|propagation|streaming]`): brings the
// compiled benchmark up to date with an incremental `tsc -b bench` (which also builds e2e and the
// packages it references), then runs bench/dist/main.js with the same arguments.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
const build = spawnSync(process.execPath, [tsc, '-b', join(root, 'bench')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  process.stderr.write('bench: the build failed; see the errors above\n');
  process.exit(build.status ?? 1);
}
const run = spawnSync(process.execPath, [join(root, 'bench', 'dist', 'main.js'), ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(run.status ?? 1);
