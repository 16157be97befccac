#!/usr/bin/env node
// The test command (`npm test` = `turbo run build && node e2e/run-tests.mjs`): makes sure a real
// etcd and redis-server are available, then runs `node --test` over every compiled test file.
//
//   node e2e/run-tests.mjs                      all tests
//   node e2e/run-tests.mjs etcd embedded        only files whose path contains "etcd" or "embedded"
//   node e2e/run-tests.mjs --test-name-pattern=CAS etcd-store   flags go to `node --test`
//
// Node 20's `node --test` does not expand directories or globs, so the files are listed explicitly.
import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
/** Binaries the tests run for real (STYLE "Tests"), with the Debian package that provides each. */
const SERVERS = [
  { binary: 'etcd', debianPackage: 'etcd-server' },
  { binary: 'redis-server', debianPackage: 'redis-server' },
];

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findBinary(binary) {
  for (const directory of (process.env.PATH ?? '').split(delimiter)) {
    if (directory !== '' && isExecutable(join(directory, binary))) return join(directory, binary);
  }
  return isExecutable(`/usr/bin/${binary}`) ? `/usr/bin/${binary}` : undefined;
}

function run(command, args) {
  console.log(`run-tests: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (result.error) throw result.error;
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status ?? result.signal}`);
}

/** Tests that touch etcd or Redis run the real servers; install the missing ones when we may. */
function ensureServers() {
  const missing = SERVERS.filter(({ binary }) => findBinary(binary) === undefined);
  if (missing.length > 0) {
    const packages = missing.map(({ debianPackage }) => debianPackage);
    const names = missing.map(({ binary }) => binary).join(' and ');
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    if (!isRoot) {
      console.error(
        `run-tests: ${names} not found on PATH or in /usr/bin.\n` +
          `Install first, e.g. \`sudo apt-get install -y ${packages.join(' ')}\` (Debian/Ubuntu).`,
      );
      process.exit(1);
    }
    console.log(`run-tests: ${names} not found; installing the Debian package(s) ${packages.join(' ')}`);
    try {
      run('apt-get', ['update']);
      run('apt-get', ['install', '-y', ...packages]);
    } catch (error) {
      console.error(`run-tests: installing ${packages.join(' ')} failed: ${error.message}`);
      process.exit(1);
    }
  }
  return SERVERS.map(({ binary, debianPackage }) => {
    const found = findBinary(binary);
    if (found === undefined) {
      console.error(`run-tests: ${debianPackage} was installed but no ${binary} is on PATH or in /usr/bin`);
      process.exit(1);
    }
    return found;
  });
}

function collectTestFiles(directory, found = []) {
  if (!existsSync(directory)) return found;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) collectTestFiles(path, found);
    else if (entry.isFile() && entry.name.endsWith('.test.js')) found.push(path);
  }
  return found;
}

function testRoots() {
  const packages = join(root, 'packages');
  const roots = existsSync(packages)
    ? readdirSync(packages, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .map((entry) => join(packages, entry.name, 'dist', 'test'))
    : [];
  return [...roots, join(root, 'e2e', 'dist')];
}

const args = process.argv.slice(2);
const flags = args.filter((arg) => arg.startsWith('-'));
const filters = args.filter((arg) => !arg.startsWith('-'));

console.log(`run-tests: using ${ensureServers().join(', ')}`);

/** `tsc` never deletes output, so a compiled test whose source was removed must not run. */
function hasSource(path) {
  const marker = `${sep}dist${sep}`;
  const at = path.lastIndexOf(marker);
  return existsSync(`${path.slice(0, at)}${sep}${path.slice(at + marker.length).replace(/\.js$/, '.ts')}`);
}

const files = testRoots()
  .flatMap((directory) => collectTestFiles(directory))
  .filter(hasSource)
  .map((path) => relative(root, path))
  .filter((path) => filters.length === 0 || filters.some((filter) => path.includes(filter)))
  .sort();
if (files.length === 0) {
  console.error(
    filters.length === 0
      ? 'run-tests: no compiled test files found; build first (`npx turbo run build`).'
      : `run-tests: no compiled test file matches ${filters.join(', ')}`,
  );
  process.exit(1);
}

// A guard, not a speed target: a test that hangs fails after five minutes instead of stalling CI.
const timeoutFlags = flags.some((flag) => flag.startsWith('--test-timeout')) ? [] : ['--test-timeout=300000'];
const child = spawn(process.execPath, ['--test', ...timeoutFlags, ...flags, ...files], {
  cwd: root,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? 128 + (osConstants.signals[signal] ?? 0)));
