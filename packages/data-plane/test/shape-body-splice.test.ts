import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientAiRequest } from '../src/plugins/ai-proxy-multi/client-request.js';
import { openAiChatProtocol } from '../src/plugins/ai-proxy-multi/protocols/openai-chat.js';
import { findProvider } from '../src/plugins/ai-proxy-multi/providers/registry.js';
import {
  prepareBodyShaping,
  type ShapingInstance,
  shapeUpstreamBody,
} from '../src/plugins/ai-proxy-multi/shape-body.js';

/**
 * When shaping only adds fields the client did not send, the upstream body is the client's bytes with
 * those fields spliced in (shape-body.ts `withAddedFields`); any other change re-serialises the copy.
 * Either way the body parses to the same object (ai-proxy-multi.md §4.4).
 */

function clientRequest(raw: string): ClientAiRequest {
  const body = JSON.parse(raw) as Record<string, unknown>;
  return {
    raw: Buffer.from(raw),
    body,
    protocol: openAiChatProtocol,
    streaming: body.stream === true,
    model: typeof body.model === 'string' ? body.model : undefined,
  };
}

function instance(
  providerId: string,
  fields: { options?: Record<string, unknown>; maxTokens?: number } = {},
): ShapingInstance {
  return {
    provider: findProvider(providerId),
    options: fields.options ?? {},
    shaping: prepareBodyShaping(
      fields.maxTokens === undefined ? undefined : { llm_options: { max_tokens: fields.maxTokens } },
    ),
  };
}

function shape(raw: string, target: ShapingInstance): string {
  return shapeUpstreamBody({
    request: clientRequest(raw),
    converted: undefined,
    target: openAiChatProtocol,
    instance: target,
  }).toString('utf8');
}

const USAGE = '"stream_options":{"include_usage":true}';

describe('upstream body: added fields spliced into the client bytes', () => {
  const spliced: ReadonlyArray<{ name: string; raw: string; instance: ShapingInstance; expected: string }> = [
    {
      name: 'stream_options for a streaming chat client',
      raw: '{"model":"m","stream":true,"messages":[]}',
      instance: instance('openai-compatible'),
      expected: `{"model":"m","stream":true,"messages":[],${USAGE}}`,
    },
    {
      name: "the client's formatting and number spelling are kept",
      raw: '{ "stream": true,\n  "temperature": 1.0, "n": 1e0 }\n',
      instance: instance('openai-compatible'),
      expected: `{ "stream": true,\n  "temperature": 1.0, "n": 1e0 ,${USAGE}}\n`,
    },
    {
      name: 'options the client did not send, in order after stream_options',
      raw: '{"stream":true,"messages":[{"role":"user","content":"é"}]}',
      instance: instance('openai-compatible', { options: { model: 'gpt-4o', top_p: 0.5 } }),
      expected: `{"stream":true,"messages":[{"role":"user","content":"é"}],${USAGE},"model":"gpt-4o","top_p":0.5}`,
    },
    {
      name: 'an empty object gets no leading comma',
      raw: '{}',
      instance: instance('openai-compatible', { options: { model: 'gpt-4o' } }),
      expected: '{"model":"gpt-4o"}',
    },
  ];
  for (const { name, raw, instance: target, expected } of spliced) {
    it(name, () => {
      const body = shape(raw, target);
      assert.equal(body, expected);
      // The same object the re-serialised copy would have been: the client's fields, then the added ones.
      assert.deepEqual(Object.keys(JSON.parse(body)), [
        ...Object.keys(JSON.parse(raw)),
        ...Object.keys(JSON.parse(expected)).slice(Object.keys(JSON.parse(raw)).length),
      ]);
    });
  }

  const reserialised: ReadonlyArray<{ name: string; raw: string; instance: ShapingInstance; expected: unknown }> = [
    {
      name: "an option overwriting the client's field",
      raw: '{ "model": "client", "stream": true }',
      instance: instance('openai-compatible', { options: { model: 'gpt-4o' } }),
      expected: { model: 'gpt-4o', stream: true, stream_options: { include_usage: true } },
    },
    {
      name: "the client's own stream_options replaced",
      raw: '{ "stream": true, "stream_options": { "include_usage": false } }',
      instance: instance('openai-compatible'),
      expected: { stream: true, stream_options: { include_usage: true } },
    },
    {
      name: 'max_tokens moved to the provider field (one client field removed)',
      raw: '{ "model": "m", "max_tokens": 5 }',
      instance: instance('openai', { maxTokens: 64 }),
      expected: { model: 'm', max_completion_tokens: 64 },
    },
    {
      name: 'the model removed for a provider whose URL names it',
      raw: '{ "model": "m", "messages": [] }',
      instance: instance('azure-openai'),
      expected: { messages: [] },
    },
  ];
  for (const { name, raw, instance: target, expected } of reserialised) {
    it(`re-serialised whole: ${name}`, () => {
      const body = shape(raw, target);
      assert.equal(body, JSON.stringify(expected));
    });
  }

  it('nothing changed: the very same bytes', () => {
    const raw = '{ "model": "m", "messages": [] }';
    assert.equal(shape(raw, instance('openai-compatible')), raw);
  });
});
