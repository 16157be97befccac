import { mkdtemp, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pollUntil } from './poll.js';
import { freePort } from './ports.js';
import { findExecutable, startManagedProcess } from './server-process.js';

/**
 * Real Redis servers for the quota-store tests (STYLE "Tests": the real thing where it is cheap):
 * a plain server, a single-node Redis Cluster and a sentinel, each on a free loopback port in a temp
 * dir without persistence, killed when the test process ends.
 *
 * @example
 *   const redis = await startRedis();
 *   await redis.stop();   // outage
 *   await redis.start();  // back on the same port, empty
 *   await redis.close();
 */

export interface RedisProcess {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); the port and dir are kept. */
  stop(): Promise<void>;
  /** Starts it again on the same port and waits until it answers PING. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops it and removes its dir. */
  close(): Promise<void>;
  /** Sends one command and returns the decoded reply (a Redis error reply throws). */
  command(...args: string[]): Promise<RespValue>;
}

export type RespValue = string | number | null | RespValue[];

export interface RedisServerOptions {
  /** The redis-server binary; default: `redis-server` on PATH, else /usr/bin/redis-server. */
  readonly binary?: string;
  readonly startTimeoutMs?: number;
}

const DEFAULT_START_TIMEOUT_MS = 20_000;

/** A standalone redis-server (no RDB, no AOF). */
export async function startRedis(options: RedisServerOptions = {}): Promise<RedisProcess> {
  return startRedisProcess('redis', (dir, port) => serverArgs(dir, port), options, answersPing);
}

/**
 * A one-node Redis Cluster owning all 16384 slots: enough to run every script through the cluster
 * client (slot routing, CLUSTER SLOTS discovery) without six processes.
 */
export async function startRedisCluster(options: RedisServerOptions = {}): Promise<RedisProcess> {
  const node = await startRedisProcess(
    'redis-cluster',
    (dir, port) =>
      serverArgs(dir, port, [
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(dir, 'nodes.conf'),
        // Announced in CLUSTER SLOTS, which the client follows.
        '--cluster-announce-ip',
        '127.0.0.1',
      ]),
    options,
    answersPing,
  );
  try {
    await node.command('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await waitForClusterOk(node);
  } catch (error) {
    await node.close();
    throw error;
  }
  return node;
}

/** A sentinel monitoring `master` under `masterName` (quorum 1). */
export async function startRedisSentinel(
  master: { readonly host: string; readonly port: number },
  masterName: string,
  options: RedisServerOptions = {},
): Promise<RedisProcess> {
  return startRedisProcess(
    'redis-sentinel',
    async (dir, port) => {
      // Sentinel insists on a config file it can rewrite.
      const file = join(dir, 'sentinel.conf');
      await writeFile(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor ${masterName} ${master.host} ${master.port} 1`,
          `sentinel down-after-milliseconds ${masterName} 5000`,
          '',
        ].join('\n'),
      );
      return [file, '--sentinel'];
    },
    options,
    async (port) => {
      const address = await redisCommand(port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', masterName]);
      return Array.isArray(address) && address[1] === String(master.port);
    },
  );
}

async function answersPing(port: number): Promise<boolean> {
  return (await redisCommand(port, ['PING'])) === 'PONG';
}

async function waitForClusterOk(node: RedisProcess): Promise<void> {
  await pollUntil(async () => String(await node.command('CLUSTER', 'INFO')).includes('cluster_state:ok'), {
    timeoutMs: 10_000,
    intervalMs: 50,
    description: `redis cluster on ${node.port} to report cluster_state:ok`,
  });
}

/** A server without persistence, in the foreground, on loopback. */
function serverArgs(dir: string, port: number, extra: readonly string[] = []): string[] {
  return [
    ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
    ...['--save', '', '--appendonly', 'no', '--daemonize', 'no', '--loglevel', 'warning'],
    ...extra,
  ];
}

async function startRedisProcess(
  label: string,
  argsFor: (dir: string, port: number) => string[] | Promise<string[]>,
  options: RedisServerOptions,
  isReady: (port: number) => Promise<boolean>,
): Promise<RedisProcess> {
  const dir = await mkdtemp(join(tmpdir(), `sb-${label}-`));
  const port = await freePort();
  const server = await startManagedProcess({
    label,
    address: `127.0.0.1:${port}`,
    binary: options.binary ?? findRedisServer(),
    args: await argsFor(dir, port),
    dir,
    isReady: () => isReady(port),
    startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
  });
  return {
    host: '127.0.0.1',
    port,
    ...server,
    command: (...commandArgs) => redisCommand(port, commandArgs),
  };
}

export function findRedisServer(): string {
  return findExecutable('redis-server', '/usr/bin/redis-server');
}

/**
 * One command over a fresh connection, for setting up and probing the servers (the client under test
 * is never used for that). Speaks just enough RESP2 for these replies.
 */
export function redisCommand(port: number, args: readonly string[], timeoutMs = 2000): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    let buffered = Buffer.alloc(0);
    const finish = (error: Error | undefined, value?: RespValue): void => {
      socket.destroy();
      if (error === undefined) resolve(value ?? null);
      else reject(error);
    };
    socket.setTimeout(timeoutMs, () =>
      finish(new Error(`redis ${args[0]} on port ${port}: no reply in ${timeoutMs} ms`)),
    );
    socket.once('error', (error) => finish(error));
    socket.once('connect', () => socket.write(encodeCommand(args)));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      try {
        const parsed = parseReply(buffered, 0);
        if (parsed !== undefined) finish(undefined, parsed.value);
      } catch (error) {
        finish(error as Error);
      }
    });
  });
}

function encodeCommand(args: readonly string[]): Buffer {
  const parts = [`*${args.length}\r\n`];
  for (const arg of args) parts.push(`$${Buffer.byteLength(arg)}\r\n${arg}\r\n`);
  return Buffer.from(parts.join(''));
}

/** A complete reply at `offset`, or undefined when more bytes are needed. */
function parseReply(buffer: Buffer, offset: number): { value: RespValue; next: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buffer[offset] ?? 0);
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  const afterLine = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, next: afterLine };
    case '-':
      throw new Error(`redis error reply: ${line}`);
    case ':':
      return { value: Number(line), next: afterLine };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, next: afterLine };
      if (buffer.length < afterLine + length + 2) return undefined;
      return { value: buffer.toString('utf8', afterLine, afterLine + length), next: afterLine + length + 2 };
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return { value: null, next: afterLine };
      const items: RespValue[] = [];
      let next = afterLine;
      for (let index = 0; index < count; index += 1) {
        const item = parseReply(buffer, next);
        if (item === undefined) return undefined;
        items.push(item.value);
        next = item.next;
      }
      return { value: items, next };
    }
    default:
      throw new Error(`unexpected RESP reply type ${JSON.stringify(type)}`);
  }
}
