import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AI_PROVIDERS, type AiProviderConf } from '@switchboard/core';
import { requestDependentPath, resolveUpstreamLocation } from '../src/plugins/ai-proxy-multi/endpoint.js';
import type { JsonObject, ProtocolId } from '../src/plugins/ai-proxy-multi/protocols/protocol.js';
import { applyMaxTokens, removeModelFor } from '../src/plugins/ai-proxy-multi/providers/body-quirks.js';
import { nativeProtocols, type ProviderDescriptor } from '../src/plugins/ai-proxy-multi/providers/provider.js';
import { findProvider } from '../src/plugins/ai-proxy-multi/providers/registry.js';

/** The provider table of ai-proxy-multi.md §4.1, row by row, against the descriptors. */

function provider(id: string): ProviderDescriptor {
  const found = findProvider(id);
  assert.ok(found, `provider ${id}`);
  return found;
}

describe('provider descriptors (§4.1)', () => {
  it('every value of the schema enum has a descriptor with that id', () => {
    for (const id of AI_PROVIDERS) assert.equal(findProvider(id)?.id, id);
    assert.equal(findProvider('some-unique'), undefined);
    assert.equal(findProvider('toString'), undefined, 'no prototype keys');
  });

  const defaults: {
    id: string;
    providerConf?: AiProviderConf;
    origin: string | undefined;
    paths: Partial<Record<ProtocolId, string>>;
  }[] = [
    {
      id: 'openai',
      origin: 'https://api.openai.com',
      paths: {
        'openai-chat': '/v1/chat/completions',
        'openai-responses': '/v1/responses',
        'openai-embeddings': '/v1/embeddings',
      },
    },
    {
      id: 'openai-compatible',
      origin: undefined,
      paths: {
        'openai-chat': '/v1/chat/completions',
        'openai-responses': '/v1/responses',
        'openai-embeddings': '/v1/embeddings',
      },
    },
    { id: 'deepseek', origin: 'https://api.deepseek.com', paths: { 'openai-chat': '/chat/completions' } },
    { id: 'aimlapi', origin: 'https://api.aimlapi.com', paths: { 'openai-chat': '/chat/completions' } },
    {
      id: 'anthropic',
      origin: 'https://api.anthropic.com',
      paths: { 'openai-chat': '/v1/chat/completions', 'anthropic-messages': '/v1/messages' },
    },
    { id: 'openrouter', origin: 'https://openrouter.ai', paths: { 'openai-chat': '/api/v1/chat/completions' } },
    {
      id: 'gemini',
      origin: 'https://generativelanguage.googleapis.com',
      paths: { 'openai-chat': '/v1beta/openai/chat/completions' },
    },
    { id: 'azure-openai', origin: undefined, paths: { 'openai-chat': '/completions' } },
    {
      id: 'vertex-ai',
      providerConf: { project_id: 'p', region: 'asia-northeast1' },
      origin: 'https://asia-northeast1-aiplatform.googleapis.com',
      paths: {
        'openai-chat': '/v1beta1/projects/p/locations/asia-northeast1/endpoints/openapi/chat/completions',
        'vertex-predict': '/v1/projects/p/locations/asia-northeast1/publishers/google/models/m%3A1:predict',
      },
    },
    {
      id: 'vertex-ai',
      origin: 'https://aiplatform.googleapis.com',
      paths: { 'openai-chat': 'unresolved', 'vertex-predict': 'unresolved' },
    },
    {
      id: 'bedrock',
      providerConf: { region: 'ap-south-1' },
      origin: 'https://bedrock-runtime.ap-south-1.amazonaws.com',
      paths: { 'bedrock-converse': '/model/m%3A1/converse' },
    },
  ];

  for (const row of defaults) {
    it(`${row.id}${row.providerConf ? ` with ${JSON.stringify(row.providerConf)}` : ''}: default origin and paths`, () => {
      const descriptor = provider(row.id);
      assert.deepEqual(nativeProtocols(descriptor), Object.keys(row.paths));
      for (const [protocol, expectedPath] of Object.entries(row.paths) as [ProtocolId, string][]) {
        const location = resolveUpstreamLocation({
          provider: descriptor,
          protocol,
          endpoint: undefined,
          authQuery: { key: 'v' },
          providerConf: row.providerConf,
        });
        if (row.origin === undefined) {
          assert.deepEqual(location, {
            ok: false,
            reason: `provider ${row.id} has no default host; set override.endpoint`,
          });
          continue;
        }
        assert.ok(location.ok);
        assert.equal(location.origin, row.origin);
        const build = requestDependentPath({ provider: descriptor, protocol, endpoint: undefined });
        if (build === undefined) {
          assert.equal(location.pathAndQuery, `${expectedPath}?key=v`);
        } else {
          // Built per attempt from the model (here `m:1`) in front of the prepared query.
          assert.equal(location.pathAndQuery, '?key=v');
          const path = build({ providerConf: row.providerConf ?? {}, model: 'm:1', streaming: false });
          assert.equal(path ?? 'unresolved', expectedPath);
        }
      }
    });
  }

  it('bedrock streams at /converse-stream and has no path without a model', () => {
    const build = requestDependentPath({
      provider: provider('bedrock'),
      protocol: 'bedrock-converse',
      endpoint: undefined,
    });
    assert.ok(build);
    const providerConf = { region: 'us-east-1' };
    assert.equal(build({ providerConf, model: 'a.b-v1:0', streaming: true }), '/model/a.b-v1%3A0/converse-stream');
    assert.equal(build({ providerConf, model: undefined, streaming: false }), undefined);
    assert.equal(build({ providerConf, model: '', streaming: false }), undefined);
  });

  it('an endpoint with a path replaces a request-dependent path too (§4.2)', () => {
    const bedrock = provider('bedrock');
    const endpoint =
      'https://proxy.internal/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fx/converse';
    assert.equal(requestDependentPath({ provider: bedrock, protocol: 'bedrock-converse', endpoint }), undefined);
    assert.deepEqual(
      resolveUpstreamLocation({ provider: bedrock, protocol: 'bedrock-converse', endpoint, authQuery: undefined }),
      {
        ok: true,
        origin: 'https://proxy.internal',
        pathAndQuery: '/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fx/converse',
      },
    );
    const hostOnly = 'http://127.0.0.1:9000';
    assert.ok(requestDependentPath({ provider: bedrock, protocol: 'bedrock-converse', endpoint: hostOnly }));
  });
});

describe('llm_options.max_tokens and model removal (§4.4 steps 3 and 5)', () => {
  const table: { id: string; protocol: ProtocolId; body: JsonObject; expected: JsonObject; changed: boolean }[] = [
    {
      id: 'openai',
      protocol: 'openai-chat',
      body: { max_tokens: 5, messages: [] },
      expected: { messages: [], max_completion_tokens: 64 },
      changed: true,
    },
    {
      id: 'openai',
      protocol: 'openai-responses',
      body: { input: 'x' },
      expected: { input: 'x', max_output_tokens: 64 },
      changed: true,
    },
    { id: 'openai', protocol: 'openai-embeddings', body: { input: 'x' }, expected: { input: 'x' }, changed: false },
    {
      id: 'openai-compatible',
      protocol: 'openai-chat',
      body: { max_tokens: 5 },
      expected: { max_tokens: 64 },
      changed: true,
    },
    {
      id: 'openai-compatible',
      protocol: 'openai-responses',
      body: {},
      expected: { max_output_tokens: 64 },
      changed: true,
    },
    { id: 'deepseek', protocol: 'openai-chat', body: {}, expected: { max_tokens: 64 }, changed: true },
    { id: 'aimlapi', protocol: 'openai-chat', body: {}, expected: { max_tokens: 64 }, changed: true },
    { id: 'anthropic', protocol: 'openai-chat', body: {}, expected: { max_tokens: 64 }, changed: true },
    {
      id: 'anthropic',
      protocol: 'anthropic-messages',
      body: { max_tokens: 9 },
      expected: { max_tokens: 64 },
      changed: true,
    },
    { id: 'openrouter', protocol: 'openai-chat', body: {}, expected: { max_tokens: 64 }, changed: true },
    {
      id: 'gemini',
      protocol: 'openai-chat',
      body: { max_tokens: 5 },
      expected: { max_tokens: 5, max_completion_tokens: 64 },
      changed: true,
    },
    { id: 'azure-openai', protocol: 'openai-chat', body: {}, expected: { max_tokens: 64 }, changed: true },
    { id: 'vertex-ai', protocol: 'openai-chat', body: {}, expected: { max_completion_tokens: 64 }, changed: true },
    {
      id: 'vertex-ai',
      protocol: 'vertex-predict',
      body: { instances: [] },
      expected: { instances: [] },
      changed: false,
    },
    {
      id: 'bedrock',
      protocol: 'bedrock-converse',
      body: { inferenceConfig: { temperature: 0.1 } },
      expected: { inferenceConfig: { temperature: 0.1, maxTokens: 64 } },
      changed: true,
    },
    {
      id: 'bedrock',
      protocol: 'bedrock-converse',
      body: {},
      expected: { inferenceConfig: { maxTokens: 64 } },
      changed: true,
    },
    {
      id: 'bedrock',
      protocol: 'bedrock-converse',
      body: { inferenceConfig: { maxTokens: 64 } },
      expected: { inferenceConfig: { maxTokens: 64 } },
      changed: false,
    },
  ];
  for (const { id, protocol, body, expected, changed } of table) {
    it(`${id} ${protocol}: ${JSON.stringify(body)} → ${JSON.stringify(expected)}`, () => {
      const original = structuredClone(body);
      const copy = { ...body };
      assert.equal(applyMaxTokens(provider(id), protocol, copy, 64), changed);
      assert.deepEqual(copy, expected);
      assert.deepEqual(body, original, 'nested objects of the client body are never mutated');
    });
  }

  it('no llm_options: nothing changes', () => {
    const body = { max_tokens: 5 };
    assert.equal(applyMaxTokens(provider('openai'), 'openai-chat', body, undefined), false);
    assert.deepEqual(body, { max_tokens: 5 });
  });

  it('removes model only for azure-openai and bedrock', () => {
    for (const id of AI_PROVIDERS) {
      const body: JsonObject = { model: 'm', messages: [] };
      const removed = removeModelFor(provider(id), body);
      assert.equal(removed, id === 'azure-openai' || id === 'bedrock', id);
      assert.equal('model' in body, !removed);
    }
  });
});
