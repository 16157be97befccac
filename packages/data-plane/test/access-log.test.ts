import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createAccessLog, writeAccessLog } from '../src/server/access-log.js';

test('access lines go to nginx_config.http.access_log as one JSON object per line', async () => {
  const file = join(await mkdtemp(join(tmpdir(), 'sb-access-')), 'logs', 'access.log');
  const accessLog = createAccessLog(file);
  const entry = {
    routeId: '1',
    method: 'POST',
    path: '/v1/chat/completions',
    status: 200,
    latencyMs: 1.5,
    consumer: 'jack',
    aborted: false,
  };
  writeAccessLog(accessLog, { ...entry, fields: { llm_model: 'gpt-4o', llm_prompt_tokens: 3 } });
  writeAccessLog(accessLog, { ...entry, status: 401, fields: undefined });
  accessLog.close();
  // The destination opens and writes asynchronously (nothing on the request path waits for disk).
  const lines = await linesOnceWritten(file, 2);
  assert.deepEqual(
    { ...lines[0], time: undefined },
    {
      time: undefined,
      route_id: '1',
      method: 'POST',
      path: '/v1/chat/completions',
      status: 200,
      latency_ms: 1.5,
      consumer: 'jack',
      request_type: 'traditional_http',
      llm_model: 'gpt-4o',
      llm_prompt_tokens: 3,
    },
  );
  assert.match(String(lines[0]?.time), /^\d{4}-\d\d-\d\dT/);
  assert.equal(lines[1]?.status, 401);
  assert.equal(lines[1]?.request_type, 'traditional_http');
});

async function linesOnceWritten(file: string, count: number): Promise<Record<string, unknown>[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const lines = text.split('\n').filter((line) => line !== '');
    if (lines.length >= count) return lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    if (Date.now() > deadline) assert.fail(`expected ${count} lines in ${file}, found ${lines.length}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}
