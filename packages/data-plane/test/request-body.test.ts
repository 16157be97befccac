import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { RequestBody } from '../src/server/request-body.js';

/**
 * RequestBody over real sockets: a body already buffered is taken in one read, one still arriving is
 * collected, both bounded with the same errors (ai-proxy-multi.md §5.1), and the connection stays
 * usable for the next request either way.
 */

interface Outcome {
  readonly body?: string;
  readonly error?: string;
  /** Whether the request stream still emitted 'end' (the server releases the request on it). */
  readonly ended: boolean;
}

const LIMIT = 64;

describe('RequestBody', () => {
  let server: Server;
  let url: string;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  before(async () => {
    server = createServer((req, res) => {
      void readBody(req).then((outcome) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(outcome));
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => {
    agent.destroy();
    server.close();
  });

  async function readBody(req: IncomingMessage): Promise<Omit<Outcome, 'ended'> & { ended: boolean }> {
    // Like the pipeline: a few turns pass between the request event and reading the body.
    await new Promise((resolve) => setImmediate(resolve));
    const ended = once(req, 'end').then(() => true);
    try {
      const body = await new RequestBody(req).read(LIMIT);
      let deadline: NodeJS.Timeout | undefined;
      const endedInTime = await Promise.race([
        ended,
        new Promise<false>((resolve) => {
          deadline = setTimeout(resolve, 5000, false);
        }),
      ]);
      clearTimeout(deadline);
      return { body: body.toString('utf8'), ended: endedInTime };
    } catch (error) {
      return { error: (error as Error).message, ended: true };
    }
  }

  /**
   * Sends `parts`, chunked unless `contentLength` is given; with several, the rest only after the server
   * saw the request, so the body is still arriving when it starts reading.
   */
  async function send(parts: readonly string[], contentLength?: number): Promise<Outcome> {
    const req = request(url, {
      method: 'POST',
      agent,
      headers: contentLength === undefined ? {} : { 'content-length': String(contentLength) },
    });
    if (parts.length > 1) {
      const seen = once(server, 'request');
      req.write(parts[0]);
      await seen;
    }
    for (const part of parts.slice(1, -1)) req.write(part);
    req.end(parts.length > 1 ? parts.at(-1) : parts[0]);
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    let text = '';
    for await (const chunk of res) text += String(chunk);
    return JSON.parse(text) as Outcome;
  }

  const cases: ReadonlyArray<{ name: string; parts: string[]; length?: number; expected: Outcome }> = [
    {
      name: 'a body in the same segment as its headers',
      parts: ['{"model":"m"}'],
      length: 13,
      expected: { body: '{"model":"m"}', ended: true },
    },
    { name: 'an empty body', parts: [''], length: 0, expected: { body: '', ended: true } },
    {
      name: 'a chunked body still arriving',
      parts: ['{"a":', '1}'],
      expected: { body: '{"a":1}', ended: true },
    },
    {
      name: 'a declared length over the limit, refused before reading',
      parts: ['x'.repeat(LIMIT + 1)],
      length: LIMIT + 1,
      expected: { error: `request size ${LIMIT + 1} is greater than the maximum size ${LIMIT} allowed`, ended: true },
    },
    {
      name: 'a chunked body passing the limit',
      parts: ['x'.repeat(40), 'y'.repeat(40)],
      expected: { error: `request size 80 is greater than the maximum size ${LIMIT} allowed`, ended: true },
    },
  ];
  for (const { name, parts, length, expected } of cases) {
    it(name, async () => {
      assert.deepEqual(await send(parts, length), expected);
      // The keep-alive connection serves the next request normally.
      assert.deepEqual(await send(['{}'], 2), { body: '{}', ended: true });
    });
  }
});
