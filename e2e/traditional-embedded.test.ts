import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type MockLlm, startMockLlm } from './mock-llm/server.js';
import { type AdminClient, admin } from './support/admin-client.js';
import { aiInstance, aiRoute, CHAT_BODY } from './support/ai-routes.js';
import { headerOf, httpRequest } from './support/http.js';
import { pollUntil } from './support/poll.js';
import { type SwitchboardNode, startSwitchboard } from './support/switchboard.js';

/**
 * One `traditional` node with the embedded store (docs/architecture.md "Processes per role"): the
 * Admin API and the proxy in one process, config persisted in `deployment.embedded.data_dir`
 * across a restart.
 */
describe('traditional role with the embedded store', () => {
  let node: SwitchboardNode;
  let api: AdminClient;
  let mock: MockLlm;
  before(async () => {
    [node, mock] = await Promise.all([startSwitchboard({ role: 'traditional' }), startMockLlm({ name: 'solo' })]);
    api = admin(node.adminUrl ?? '', node.adminKey);
  });
  after(async () => {
    await Promise.all([node?.stop(), mock?.close()]);
  });

  const chatThroughProxy = () => httpRequest(`${node.proxyUrl}/solo`, { body: CHAT_BODY });

  test('a route PUT through the Admin API is proxied by the same node', async () => {
    const put = await api.put(
      '/routes/solo',
      aiRoute({ uri: '/solo', instances: [aiInstance({ name: 'solo', endpoint: mock.url })] }),
    );
    assert.equal(put.status, 201, put.text);
    const response = await pollUntil(
      async () => {
        const result = await chatThroughProxy();
        return result.status === 200 ? result : undefined;
      },
      { timeoutMs: 10_000, description: 'the route on the proxy' },
    );
    assert.equal(headerOf(response, 'x-mock-name'), 'solo');
  });

  test('the route survives a restart of the process', async () => {
    const before = await api.get('/routes/solo');
    assert.equal(before.status, 200);
    await node.restart();
    const after = await api.get('/routes/solo');
    assert.equal(after.status, 200, after.text);
    assert.deepEqual(after.body, before.body, 'same value and indexes after the restart');
    // Readiness means the first full load is applied, so the route serves at once.
    const response = await chatThroughProxy();
    assert.equal(response.status, 200, response.text);
    assert.equal(headerOf(response, 'x-mock-name'), 'solo');

    const next = await api.put(
      '/routes/second',
      aiRoute({ uri: '/second', instances: [aiInstance({ name: 'solo', endpoint: mock.url })] }),
    );
    assert.equal(next.status, 201, 'the store keeps accepting writes after the restart');
    const second = (await api.get('/routes/second')).body as { createdIndex?: number };
    const solo = before.body as { modifiedIndex?: number };
    assert.ok((second.createdIndex ?? 0) > (solo.modifiedIndex ?? 0), 'revisions continue from where they were');
  });
});
