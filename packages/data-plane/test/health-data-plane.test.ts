import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { waitFor } from './support/harness.js';
import {
  type HealthCheckedLlm,
  PROBE_EVERY_SECOND,
  startAnsweringPlane,
  startHealthCheckedLlm,
} from './support/health-plane.js';

/**
 * Active health checks through a whole data plane (ai-proxy-multi.md §2.6, §7): the node's one prober,
 * the snapshot it publishes, and the balancer leaving unhealthy instances out — in one process
 * (`workers: 0`) and with two cluster workers sharing the primary's prober.
 */

function route(llms: readonly HealthCheckedLlm[], checked: ReadonlySet<string>) {
  return {
    uri: '/chat',
    plugins: {
      'ai-proxy-multi': {
        instances: llms.map((llm) => ({
          name: llm.name,
          provider: 'openai-compatible',
          weight: 1,
          auth: {},
          override: { endpoint: `http://127.0.0.1:${llm.port}` },
          ...(checked.has(llm.name) ? { checks: PROBE_EVERY_SECOND } : {}),
        })),
      },
    },
  };
}

const allFrom = (answers: readonly string[], name: string) => answers.every((answer) => answer === `200:${name}`);

describe('active health checks in a data plane (ai-proxy-multi.md §7)', { timeout: 60_000 }, () => {
  test('instance down → left out of picking; back up → traffic returns after its probe passes', async () => {
    const [a, b] = await Promise.all([startHealthCheckedLlm('a'), startHealthCheckedLlm('b')]);
    const plane = await startAnsweringPlane({ workers: 0 });
    try {
      await plane.store.put('/apisix/routes/1', route([a, b], new Set(['a', 'b'])));
      await waitFor(async () => ((await plane.answers(4)).some((answer) => answer === '200:a') ? true : undefined), {
        what: 'a serving',
      });

      await a.stop();
      await waitFor(async () => (allFrom(await plane.answers(4), 'b') ? true : undefined), {
        what: 'every request on b while a is down',
        timeoutMs: 15_000,
      });
      assert.ok(
        plane.log.lines.some(
          (line) => line.msg === 'ai instance is unhealthy' && line.instance === '/apisix/routes/1#a',
        ),
      );

      await a.restart();
      await waitFor(async () => ((await plane.answers(4)).includes('200:a') ? true : undefined), {
        what: 'traffic back on a',
        timeoutMs: 15_000,
      });
    } finally {
      await plane.close();
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  test('every instance unhealthy → health is ignored and both still serve (§2.6)', async () => {
    const [a, b] = await Promise.all([startHealthCheckedLlm('a'), startHealthCheckedLlm('b')]);
    a.healthStatus = 503;
    b.healthStatus = 503;
    const plane = await startAnsweringPlane({ workers: 0 });
    try {
      await plane.store.put('/apisix/routes/1', route([a, b], new Set(['a', 'b'])));
      await waitFor(
        () =>
          plane.log.lines.filter((line) => line.msg === 'ai instance is unhealthy').length === 2 ? true : undefined,
        { what: 'both instances unhealthy', timeoutMs: 15_000 },
      );
      const answers = await plane.answers(6);
      assert.ok(answers.includes('200:a') && answers.includes('200:b'), answers.join(','));
    } finally {
      await plane.close();
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  test('two workers share the primary prober: one state change per node, both workers avoid the instance', async () => {
    const [a, b] = await Promise.all([startHealthCheckedLlm('a'), startHealthCheckedLlm('b')]);
    a.healthStatus = 500;
    const plane = await startAnsweringPlane({ workers: 2 });
    try {
      await plane.store.put('/apisix/routes/1', route([a, b], new Set(['a'])));
      await waitFor(
        () => (plane.log.lines.some((line) => line.msg === 'ai instance is unhealthy') ? true : undefined),
        {
          what: 'a unhealthy in the primary',
          timeoutMs: 15_000,
        },
      );
      // Fresh connections land on both workers; every one of them must avoid a.
      await waitFor(async () => (allFrom(await plane.answers(8), 'b') ? true : undefined), {
        what: 'both workers on b',
        timeoutMs: 10_000,
      });
      const transitions = plane.log.lines.filter((line) => line.msg === 'ai instance is unhealthy');
      assert.equal(transitions.length, 1, 'the node probes once: one prober, one state change');
      assert.ok(a.probes >= 1);
      assert.equal(b.probes, 0, 'an instance without checks is never probed');
    } finally {
      await plane.close();
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
