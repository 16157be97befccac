import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { isSwitchboardError, MemoryQuotaCounters, type QuotaCounterStore } from '@switchboard/core';
import { createRedisQuotaStores, type RedisQuotaConnection, type RedisQuotaStores } from '@switchboard/data-plane';
import { pollUntil } from './support/poll.js';
import { conformanceKeys, LONG_WINDOW_MS, QUOTA_CONFORMANCE_CASES } from './support/quota-conformance.js';
import { type RedisProcess, startRedis, startRedisCluster, startRedisSentinel } from './support/redis.js';

type RedisStandaloneConnection = Extract<RedisQuotaConnection, { policy: 'redis' }>;

/** The documented key layout (docs/quotas.md "Redis deployment"). */
const KEY_PREFIX = 'switchboard:ai-quota:';

/**
 * The quota counter stores of ai-rate-limiting (admin-api.md §8.2): the `local` memory store and the
 * `redis`, `redis-cluster`, `redis-sentinel` stores on real servers run one conformance table, then the
 * Redis-only properties: replicas share counters, outages reject fast and heal by themselves.
 */

interface StoreUnderTest {
  readonly store: QuotaCounterStore;
  close(): Promise<void>;
}

const SENTINEL_MASTER = 'sb-quota';

const STORES: readonly { readonly name: string; open(): Promise<StoreUnderTest> }[] = [
  {
    name: 'memory (policy local)',
    async open() {
      return { store: new MemoryQuotaCounters(Date.now), close: async () => {} };
    },
  },
  {
    name: 'policy redis',
    async open() {
      const redis = await startRedis();
      return openRedisStore({ policy: 'redis', redis_host: redis.host, redis_port: redis.port }, [redis]);
    },
  },
  {
    name: 'policy redis-cluster (one node owning every slot)',
    async open() {
      const node = await startRedisCluster();
      return openRedisStore(
        { policy: 'redis-cluster', redis_cluster_nodes: [`${node.host}:${node.port}`], redis_cluster_name: 'quota' },
        [node],
      );
    },
  },
  {
    name: 'policy redis-sentinel',
    async open() {
      const master = await startRedis();
      const sentinel = await startRedisSentinel(master, SENTINEL_MASTER);
      return openRedisStore(
        {
          policy: 'redis-sentinel',
          redis_sentinels: [{ host: sentinel.host, port: sentinel.port }],
          redis_master_name: SENTINEL_MASTER,
        },
        [sentinel, master],
      );
    },
  },
];

function openRedisStore(connection: RedisQuotaConnection, servers: readonly RedisProcess[]): StoreUnderTest {
  const stores = createRedisQuotaStores();
  return {
    store: stores.get(connection),
    async close() {
      await stores.close();
      for (const server of servers) await server.close();
    },
  };
}

for (const candidate of STORES) {
  describe(`quota conformance: ${candidate.name}`, () => {
    let opened: StoreUnderTest | undefined;
    const keysOf = conformanceKeys(randomUUID());
    before(async () => {
      opened = await candidate.open();
    });
    after(() => opened?.close());

    for (const [index, conformance] of QUOTA_CONFORMANCE_CASES.entries()) {
      test(conformance.name, async () => {
        assert.ok(opened !== undefined);
        await conformance.run({ store: opened.store, key: keysOf(index) });
      });
    }
  });
}

describe('redis quota store: replicas, storage, outages', () => {
  let redis: RedisProcess;
  const registries: RedisQuotaStores[] = [];
  const connectionTo = (server: RedisProcess, timeoutMs = 500): RedisStandaloneConnection => ({
    policy: 'redis',
    redis_host: server.host,
    redis_port: server.port,
    redis_timeout: timeoutMs,
  });
  /** A worker process of one replica: its own registry, so its own connection. */
  const replica = (connection: RedisQuotaConnection): QuotaCounterStore => {
    const stores = createRedisQuotaStores();
    registries.push(stores);
    return stores.get(connection);
  };
  const isUnavailable = (error: unknown): boolean => isSwitchboardError(error, 'SB_ERR_QUOTA_STORE_UNAVAILABLE');

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const stores of registries) await stores.close();
    await redis?.close();
  });

  test('two replicas share one counter exactly, concurrent reserves included', async () => {
    const a = replica(connectionTo(redis));
    const b = replica(connectionTo(redis));
    const key = `/apisix/routes/shared-${randomUUID()}#gpt-4.1`;
    const first = await a.reserve({ key, windowMs: LONG_WINDOW_MS, limit: 200, amount: 10, check: true });
    const seen = await b.reserve({ key, windowMs: LONG_WINDOW_MS, limit: 200, amount: 0, check: true });
    assert.deepEqual([seen.usedBefore, seen.windowId], [10, first.windowId]);
    await b.adjust({ key, windowMs: LONG_WINDOW_MS, delta: -10, windowId: first.windowId });
    assert.equal(
      (await a.reserve({ key, windowMs: LONG_WINDOW_MS, limit: 200, amount: 0, check: true })).usedBefore,
      0,
    );

    const racing = await Promise.all(
      Array.from({ length: 60 }, (_, index) =>
        (index % 2 === 0 ? a : b).reserve({ key, windowMs: LONG_WINDOW_MS, limit: 200, amount: 10, check: true }),
      ),
    );
    assert.equal(racing.filter((result) => result.admitted).length, 20);
  });

  test('one hash per counter under the prefix, with the window as its TTL', async () => {
    const store = replica(connectionTo(redis));
    const key = `/apisix/consumers/jack:hash#claude.sonnet-${randomUUID()}`;
    const { windowId } = await store.reserve({ key, windowMs: LONG_WINDOW_MS, limit: 30, amount: 10, check: true });
    const stored = await redis.command('HGETALL', KEY_PREFIX + key);
    assert.deepEqual(stored, ['used', '10', 'startedAt', windowId, 'windowMs', String(LONG_WINDOW_MS)]);
    const ttl = Number(await redis.command('PTTL', KEY_PREFIX + key));
    assert.ok(ttl > 0 && ttl <= LONG_WINDOW_MS, `PTTL ${ttl}`);
  });

  test('an emptied script cache is refilled (EVALSHA falls back on NOSCRIPT)', async () => {
    const store = replica(connectionTo(redis));
    const key = `/apisix/routes/noscript-${randomUUID()}#gpt`;
    const request = { key, windowMs: LONG_WINDOW_MS, limit: 30, amount: 10, check: true };
    await store.reserve(request);
    await redis.command('SCRIPT', 'FLUSH');
    assert.equal((await store.reserve(request)).usedBefore, 10);
    const { windowId } = await store.reserve({ ...request, amount: 0 });
    await redis.command('SCRIPT', 'FLUSH');
    await store.adjust({ key, windowMs: LONG_WINDOW_MS, delta: -20, windowId });
    assert.equal((await store.reserve({ ...request, amount: 0 })).usedBefore, 0);
  });

  test('equal connection settings share one store; other settings get their own', async () => {
    const stores = createRedisQuotaStores();
    registries.push(stores);
    const base = connectionTo(redis, 1000);
    const same = stores.get(base);
    assert.equal(stores.get({ ...base, redis_keepalive_pool: 5, redis_keepalive_timeout: 2000 }), same);
    const { redis_timeout: _defaultTimeout, ...withoutTimeout } = base;
    assert.equal(stores.get(withoutTimeout), same, 'defaults apply before comparing');
    assert.notEqual(stores.get({ ...base, redis_database: 1 }), same);
    await stores.close();
    assert.throws(() => stores.get(base));
  });

  test('Redis down: operations reject with the typed error; back on the same port: service resumes', async () => {
    const store = replica(connectionTo(redis));
    const key = `/apisix/routes/outage-${randomUUID()}#gpt`;
    const request = { key, windowMs: LONG_WINDOW_MS, limit: 30, amount: 10, check: true };
    await store.reserve(request);

    await redis.stop();
    for (let attempt = 0; attempt < 3; attempt += 1) await assert.rejects(store.reserve(request), isUnavailable);
    await assert.rejects(store.adjust({ key, windowMs: LONG_WINDOW_MS, delta: 5, windowId: 'x' }), isUnavailable);

    await redis.start();
    const resumed = await pollUntil(() => store.reserve(request), {
      timeoutMs: 15_000,
      intervalMs: 100,
      description: 'reserves to succeed after Redis came back',
    });
    assert.deepEqual([resumed.admitted, resumed.usedBefore], [true, 0], 'a fresh Redis has no counters');
  });

  test('a Redis that accepts connections but never answers: operations reject, never hang', async () => {
    const held: Socket[] = [];
    const silent: Server = createServer((socket) => held.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    assert.ok(address !== null && typeof address === 'object');
    try {
      const store = replica({ policy: 'redis', redis_host: '127.0.0.1', redis_port: address.port, redis_timeout: 300 });
      const request = { key: 'silent#gpt', windowMs: LONG_WINDOW_MS, limit: 30, amount: 10, check: true };
      for (let attempt = 0; attempt < 3; attempt += 1) await assert.rejects(store.reserve(request), isUnavailable);
    } finally {
      for (const socket of held) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});
