import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveUpstreamLocation, type UpstreamLocation } from '../src/plugins/ai-proxy-multi/endpoint.js';
import type { ProtocolId } from '../src/plugins/ai-proxy-multi/protocols/protocol.js';
import { findProvider } from '../src/plugins/ai-proxy-multi/providers/registry.js';

describe('resolveUpstreamLocation (ai-proxy-multi.md §4.1, §4.2)', () => {
  const table: {
    name: string;
    provider: string;
    protocol?: ProtocolId;
    endpoint?: string;
    authQuery?: Record<string, string>;
    expected: UpstreamLocation;
  }[] = [
    {
      name: 'openai default host and chat path',
      provider: 'openai',
      expected: { ok: true, origin: 'https://api.openai.com', pathAndQuery: '/v1/chat/completions' },
    },
    {
      name: 'openai embeddings path',
      provider: 'openai',
      protocol: 'openai-embeddings',
      expected: { ok: true, origin: 'https://api.openai.com', pathAndQuery: '/v1/embeddings' },
    },
    {
      name: 'endpoint without a path keeps the provider path',
      provider: 'openai-compatible',
      endpoint: 'http://127.0.0.1:8080',
      expected: { ok: true, origin: 'http://127.0.0.1:8080', pathAndQuery: '/v1/chat/completions' },
    },
    {
      name: 'endpoint path "/" is used as is',
      provider: 'openai',
      endpoint: 'https://llm.internal/',
      expected: { ok: true, origin: 'https://llm.internal', pathAndQuery: '/' },
    },
    {
      name: 'endpoint path wins for every protocol',
      provider: 'openai',
      protocol: 'openai-embeddings',
      endpoint: 'https://llm.internal:8443/custom/chat',
      expected: { ok: true, origin: 'https://llm.internal:8443', pathAndQuery: '/custom/chat' },
    },
    {
      name: 'default ports are dropped from the origin',
      provider: 'openai',
      endpoint: 'https://llm.internal:443/x',
      expected: { ok: true, origin: 'https://llm.internal', pathAndQuery: '/x' },
    },
    {
      name: 'pre-encoded path characters stay encoded; ;params and #fragment are dropped',
      provider: 'openai',
      endpoint: 'https://h/model/arn%3Aaws%3Ax/converse;v=1#frag',
      expected: { ok: true, origin: 'https://h', pathAndQuery: '/model/arn%3Aaws%3Ax/converse' },
    },
    {
      name: 'auth.query plus endpoint query; the endpoint wins a shared key',
      provider: 'openai',
      endpoint: 'http://h/v1/chat/completions?some_query=yes&api_key=endpoint',
      authQuery: { api_key: 'auth', other: 'a b' },
      expected: {
        ok: true,
        origin: 'http://h',
        pathAndQuery: '/v1/chat/completions?other=a+b&some_query=yes&api_key=endpoint',
      },
    },
    {
      name: 'openai-compatible without an endpoint has no host',
      provider: 'openai-compatible',
      expected: { ok: false, reason: 'provider openai-compatible has no default host; set override.endpoint' },
    },
    {
      name: 'malformed endpoint',
      provider: 'openai',
      endpoint: 'http//127.0.0.1:1980',
      expected: { ok: false, reason: 'invalid endpoint' },
    },
  ];

  for (const row of table) {
    it(row.name, () => {
      const provider = findProvider(row.provider);
      assert.ok(provider !== undefined);
      const location = resolveUpstreamLocation({
        provider,
        protocol: row.protocol ?? 'openai-chat',
        endpoint: row.endpoint,
        authQuery: row.authQuery,
      });
      assert.deepEqual(location, row.expected);
    });
  }
});
