import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ADMIN_ERRORS } from '../src/index.js';

// docs/errors.md is the public list of Admin API codes; it must match the error table exactly.
test('docs/errors.md lists every Admin API error code with its status', () => {
  const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');
  const documented = new Map(
    [...doc.matchAll(/^\|\s*`(SB_ADMIN_[A-Z_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map((row) => [row[1], Number(row[2])]),
  );
  const declared = new Map(Object.entries(ADMIN_ERRORS).map(([code, { status }]) => [code, status]));
  assert.deepEqual(documented, declared);
});
