import type { MockFixtures } from './fixtures.js';

/**
 * OpenAI wire bodies built from the fixtures. Every body names the mock that made it (`id` carries
 * the mock's name and a sequence number, `system_fingerprint` is `mock-<name>`) so a test can tell
 * which instance answered even when headers were rewritten on the way.
 */
export interface ResponseIdentity {
  readonly name: string;
  readonly seq: number;
  /** The model the client asked for; echoed like OpenAI does, else the fixture's model. */
  readonly requestedModel: string | undefined;
}

export function chatCompletionBody(fixtures: MockFixtures, identity: ResponseIdentity, created: number): string {
  return JSON.stringify({
    ...fixtures.chatCompletion,
    id: `chatcmpl-${identity.name}-${identity.seq}`,
    created,
    model: identity.requestedModel ?? fixtures.chatCompletion.model,
    system_fingerprint: `mock-${identity.name}`,
  });
}

/** One SSE event per element: `data: <json>\n\n`. */
export interface ChatStreamEvents {
  /** `count` content chunks; the first also carries `role: assistant`. */
  content(count: number): string[];
  /** The closing events of a complete stream: finish chunk, usage chunk, `[DONE]`. */
  ending(): string[];
}

export function chatStreamEvents(
  fixtures: MockFixtures,
  identity: ResponseIdentity,
  created: number,
): ChatStreamEvents {
  const { deltas, usage } = fixtures.chatStream;
  const base = {
    id: `chatcmpl-${identity.name}-${identity.seq}`,
    object: 'chat.completion.chunk',
    created,
    model: identity.requestedModel ?? fixtures.chatStream.model,
    system_fingerprint: `mock-${identity.name}`,
  };
  const event = (payload: object): string => `data: ${JSON.stringify({ ...base, ...payload })}\n\n`;
  return {
    content(count) {
      const events: string[] = [];
      for (let index = 0; index < count; index++) {
        const content = deltas[index % deltas.length] ?? '';
        const delta = index === 0 ? { role: 'assistant', content } : { content };
        events.push(event({ choices: [{ index: 0, delta, logprobs: null, finish_reason: null }] }));
      }
      return events;
    },
    ending() {
      return [
        event({ choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] }),
        event({ choices: [], usage }),
        'data: [DONE]\n\n',
      ];
    },
  };
}

/** One embedding per input item (a string or token array is one item, an array of strings is many). */
export function embeddingsBody(fixtures: MockFixtures, identity: ResponseIdentity, input: unknown): string {
  const count = Array.isArray(input) && input.every((item) => typeof item === 'string') ? input.length : 1;
  const data = Array.from({ length: count }, (_, index) => ({
    object: 'embedding',
    index,
    embedding: fixtures.embeddings.embedding,
  }));
  return JSON.stringify({
    object: 'list',
    id: `embd-${identity.name}-${identity.seq}`,
    data,
    model: identity.requestedModel ?? fixtures.embeddings.model,
    usage: fixtures.embeddings.usage,
  });
}

/** For bodies that are neither chat nor embeddings: say who answered and what arrived. */
export function echoBody(identity: ResponseIdentity, path: string, bodyText: string): string {
  return JSON.stringify({
    id: `echo-${identity.name}-${identity.seq}`,
    object: 'mock.echo',
    path,
    received: bodyText,
  });
}
