import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** How the upstream answers one request, once its body was read. */
export type Behaviour = (req: IncomingMessage, res: ServerResponse) => void;

/** An in-test LLM upstream on a random loopback port whose answer the test chooses per request. */
export interface ScriptedUpstream {
  readonly name: string;
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** The JSON bodies it received, in order (`{}` for an empty one); the test may empty it. */
  readonly received: Array<Record<string, unknown>>;
  /** Resolves when the last response's connection closed (the gateway aborted it, or it ended). */
  readonly closed: Promise<void>;
  /** Answers the next requests with `behaviour`. */
  respond(behaviour: Behaviour): void;
  close(): Promise<void>;
}

/**
 * @example
 *   const a = await startScriptedUpstream('a', ok('a'));
 *   a.respond((req) => req.socket.destroy());
 *   await a.close();
 */
export async function startScriptedUpstream(name: string, behaviour: Behaviour): Promise<ScriptedUpstream> {
  const received: Array<Record<string, unknown>> = [];
  let current = behaviour;
  let closed: Promise<void> = Promise.resolve();
  const server = createServer(async (req, res) => {
    let text = '';
    for await (const chunk of req) text += String(chunk);
    received.push(JSON.parse(text || '{}') as Record<string, unknown>);
    closed = new Promise((resolve) => res.once('close', () => resolve()));
    current(req, res);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    name,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    get closed() {
      return closed;
    },
    respond(next) {
      current = next;
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/**
 * An openai-compatible ai-proxy-multi instance named after `upstream` and sending to it
 * (ai-proxy-multi.md §1.3), with `fields` (priority, checks, …) on top.
 */
export function upstreamInstance(
  upstream: { readonly name: string; readonly url: string },
  fields: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    name: upstream.name,
    provider: 'openai-compatible',
    weight: 1,
    auth: { header: { authorization: `Bearer ${upstream.name}` } },
    override: { endpoint: upstream.url },
    ...fields,
  };
}
