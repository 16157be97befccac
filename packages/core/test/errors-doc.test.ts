import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ERROR_CODES } from '../src/index.js';

// docs/errors.md is the public list of codes; it must name exactly the codes the code can raise.
test('docs/errors.md lists every error code with its status', () => {
  const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Map(
    [...doc.matchAll(/^\|\s*`(SB_ERR_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map((row) => [row[1], Number(row[2])]),
  );
  const declared = new Map(Object.entries(ERROR_CODES).map(([code, { status }]) => [code, status]));
  assert.deepEqual(documented, declared);
});
