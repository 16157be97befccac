import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type MockLlm, startMockLlm } from './mock-llm/server.js';
import { aiInstance, aiRoute, CHAT_BODY } from './support/ai-routes.js';
import { type Cluster, startCluster } from './support/cluster.js';
import { headerOf, httpRequest } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { putRouteAndAwaitReplicas } from './support/put-route.js';

/**
 * Active health checks through two data-plane replicas against etcd (ai-proxy-multi.md §2.5, §2.6, §7):
 * every node runs one prober in its primary process; instances going down and coming back, and a chash
 * ring that keeps its keys when one instance turns unhealthy. No fallback strategy is configured, so a
 * request that reached a dead instance would fail: every 200 below is the balancer's doing.
 */

/** Probes every second; one refused connection marks unhealthy, one success healthy again. */
const FAST_CHECKS = {
  active: {
    timeout: 0.5,
    healthy: { interval: 1, successes: 1 },
    unhealthy: { interval: 1, tcp_failures: 1, http_failures: 1 },
  },
};

function checkedInstance(mock: MockLlm): Record<string, unknown> {
  return { ...aiInstance({ name: mock.name, endpoint: mock.url }), checks: FAST_CHECKS };
}

describe('active health checks through two data-plane replicas', { timeout: 120_000 }, () => {
  let cluster: Cluster;
  const mocks = new Map<string, MockLlm>();

  before(async () => {
    cluster = await startCluster();
    for (const name of ['a', 'b', 'c']) mocks.set(name, await startMockLlm({ name }));
  });
  after(async () => {
    await Promise.all([cluster?.close(), ...[...mocks.values()].map((mock) => mock.close())]);
  });
  const mock = (name: string): MockLlm => mocks.get(name) as MockLlm;

  /** Stops a mock (connections refused) and brings it back on the same port. */
  async function takeDown(name: string): Promise<void> {
    await mock(name).close();
  }
  async function bringBack(name: string): Promise<void> {
    mocks.set(name, await startMockLlm({ name, port: mock(name).port }));
  }

  test('instance down → every request goes to the healthy one; back up → traffic returns after probes pass', async () => {
    await putRouteAndAwaitReplicas(
      cluster,
      'down-and-back',
      aiRoute({ uri: '/health/rr', instances: [checkedInstance(mock('a')), checkedInstance(mock('b'))] }),
    );
    const answeredBy = async (proxyUrl: string): Promise<string> => {
      const answer = await httpRequest(`${proxyUrl}/health/rr`, { body: CHAT_BODY });
      return `${answer.status}:${headerOf(answer, 'x-mock-name')}`;
    };
    const onlyB = async (proxyUrl: string) => {
      for (let index = 0; index < 4; index++) if ((await answeredBy(proxyUrl)) !== '200:b') return false;
      return true;
    };

    await takeDown('a');
    for (const proxyUrl of cluster.proxyUrls) {
      await pollUntil(() => onlyB(proxyUrl), {
        timeoutMs: 15_000,
        intervalMs: 100,
        description: `a left out on ${proxyUrl}`,
      });
    }
    await bringBack('a');
    for (const proxyUrl of cluster.proxyUrls) {
      await pollUntil(async () => (await answeredBy(proxyUrl)) === '200:a', {
        timeoutMs: 15_000,
        intervalMs: 100,
        description: `traffic back on a via ${proxyUrl}`,
      });
    }
    await cluster.admin.delete('/routes/down-and-back');
  });

  test('chash: an unhealthy instance moves only its own sessions; both replicas agree; sessions return', async () => {
    await putRouteAndAwaitReplicas(
      cluster,
      'sticky',
      aiRoute({
        uri: '/health/chash',
        pluginFields: { balancer: { algorithm: 'chash', hash_on: 'header', key: 'x-session-id' } },
        instances: ['a', 'b', 'c'].map((name) => checkedInstance(mock(name))),
      }),
    );
    const sessions = Array.from({ length: 30 }, (_, index) => `session-${index}`);
    const owners = async (proxyUrl: string): Promise<Map<string, string>> => {
      const map = new Map<string, string>();
      for (const session of sessions) {
        const answer = await httpRequest(`${proxyUrl}/health/chash`, {
          headers: { 'content-type': 'application/json', 'x-session-id': session },
          body: CHAT_BODY,
        });
        map.set(session, answer.status === 200 ? headerOf(answer, 'x-mock-name') : `status ${answer.status}`);
      }
      return map;
    };
    const [first, second] = cluster.proxyUrls as [string, string];
    const before = await owners(first);
    assert.deepEqual(await owners(second), before, 'both replicas hash every session to the same instance');
    const ofC = sessions.filter((session) => before.get(session) === 'c');
    assert.ok(ofC.length > 0 && ofC.length < sessions.length, 'c owns some sessions, not all');

    await takeDown('c');
    for (const proxyUrl of cluster.proxyUrls) {
      const during = await pollUntil(
        async () => {
          const now = await owners(proxyUrl);
          return ofC.every((session) => now.get(session) === 'a' || now.get(session) === 'b') ? now : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 100, description: `c's sessions moved on ${proxyUrl}` },
      );
      for (const session of sessions.filter((each) => before.get(each) !== 'c')) {
        assert.equal(during.get(session), before.get(session), `${session} kept its instance`);
      }
    }

    await bringBack('c');
    for (const proxyUrl of cluster.proxyUrls) {
      await pollUntil(
        async () => {
          const now = await owners(proxyUrl);
          return sessions.every((session) => now.get(session) === before.get(session)) ? true : undefined;
        },
        { timeoutMs: 15_000, intervalMs: 100, description: `c's sessions back on ${proxyUrl}` },
      );
    }
    await cluster.admin.delete('/routes/sticky');
  });
});
