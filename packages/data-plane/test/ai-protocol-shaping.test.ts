import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  type AiGateway,
  jsonAnswer,
  type ScriptedUpstream,
  send,
  singleInstanceRoute,
  startAiGateway,
  startScriptedUpstream,
} from './ai-protocol-harness.js';

/**
 * Body shaping in APISIX's order (ai-proxy-multi.md §4.4): target-protocol preparation, `options`,
 * `override.llm_options`, the `override.request_body` patch of the target protocol (deep merge, kept
 * or forced), and verbatim bytes when nothing changed.
 */

describe('body shaping (§4.4)', () => {
  let upstream: ScriptedUpstream;
  let gateway: AiGateway;

  before(async () => {
    upstream = await startScriptedUpstream();
    const endpoint = { endpoint: upstream.origin };
    const patch = {
      temperature: 0.9,
      max_completion_tokens: 10,
      metadata: { team: 'ml', nested: { tier: 'gold' } },
      stop: ['patched'],
    };
    gateway = await startAiGateway({
      kept: singleInstanceRoute('/kept', {
        provider: 'openai',
        options: { model: 'gpt-4o', top_p: 0.5 },
        override: { ...endpoint, llm_options: { max_tokens: 64 }, request_body: { 'openai-chat': patch } },
      }),
      forced: singleInstanceRoute('/forced', {
        provider: 'openai',
        override: {
          ...endpoint,
          llm_options: { max_tokens: 64 },
          request_body: { 'openai-chat': patch },
          request_body_force_override: true,
        },
      }),
      converted: singleInstanceRoute('/converted/*', {
        provider: 'openai-compatible',
        override: {
          ...endpoint,
          request_body: { 'openai-chat': { seed: 7 }, 'anthropic-messages': { top_k: 3 } },
        },
      }),
      same: singleInstanceRoute('/same', {
        provider: 'openai-compatible',
        override: { ...endpoint, request_body: { 'openai-chat': { model: 'm', metadata: { a: 1 } } } },
      }),
    });
    upstream.respondWith(jsonAnswer({ choices: [] }));
  });
  beforeEach(() => {
    upstream.reset();
    upstream.respondWith(jsonAnswer({ choices: [] }));
  });
  after(async () => {
    await gateway.close();
    await upstream.close();
  });

  const client = {
    model: 'client-model',
    max_tokens: 100,
    temperature: 0.1,
    metadata: { team: 'web', user: 'u' },
    messages: [{ role: 'user', content: 'hi' }],
  };

  it('options, then llm_options into the provider field, then the patch filling only missing fields', async () => {
    await send(`${gateway.url}/kept`, { body: client });
    assert.deepEqual(upstream.json(), {
      model: 'gpt-4o',
      // openai: max_completion_tokens, max_tokens removed; the patch cannot override llm_options unforced.
      max_completion_tokens: 64,
      temperature: 0.1,
      metadata: { team: 'web', user: 'u', nested: { tier: 'gold' } },
      messages: client.messages,
      top_p: 0.5,
      stop: ['patched'],
    });
    // The same conf again: neither the config nor the client body was mutated by the first request.
    await send(`${gateway.url}/kept`, { body: client });
    assert.deepEqual(upstream.json(1), upstream.json(0));
  });

  it('request_body_force_override: the patch overwrites, nested objects still merge', async () => {
    await send(`${gateway.url}/forced`, { body: client });
    assert.deepEqual(upstream.json(), {
      model: 'client-model',
      max_completion_tokens: 10,
      temperature: 0.9,
      metadata: { team: 'ml', user: 'u', nested: { tier: 'gold' } },
      messages: client.messages,
      stop: ['patched'],
    });
  });

  it('the patch is chosen by the target protocol: an Anthropic client on openai-chat gets the openai-chat patch', async () => {
    await send(`${gateway.url}/converted/v1/messages`, {
      body: { model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] },
    });
    const body = upstream.json();
    assert.equal(body.seed, 7);
    assert.equal(body.top_k, undefined);
  });

  it('a patch that changes nothing keeps the client bytes verbatim', async () => {
    const raw = '{ "model": "m", "metadata": {"a": 1}, "messages": [] }';
    await send(`${gateway.url}/same`, { body: raw });
    assert.equal(upstream.received[0]?.body, raw);
  });
});
