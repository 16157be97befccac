import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ADMIN_ERRORS } from '../src/index.js';

/** The admin error table (STYLE §10): stable codes, every entry used, every body JSON with a message. */

const SOURCE_DIR = fileURLToPath(new URL('../../src/', import.meta.url));

async function sourceText(directory: string): Promise<string> {
  const entries = await readdir(directory, { withFileTypes: true });
  const texts = await Promise.all(
    entries.map((entry) => {
      const path = join(directory, entry.name);
      if (entry.isDirectory()) return sourceText(path);
      return entry.name.endsWith('.ts') && entry.name !== 'errors.ts' ? readFile(path, 'utf8') : Promise.resolve('');
    }),
  );
  return texts.join('\n');
}

describe('ADMIN_ERRORS', () => {
  test('codes are SB_ADMIN_* and statuses are 4xx/5xx', () => {
    for (const [code, entry] of Object.entries(ADMIN_ERRORS)) {
      assert.match(code, /^SB_ADMIN_[A-Z_]+$/);
      assert.ok(entry.status >= 400 && entry.status <= 599, code);
    }
  });

  test('every code is raised somewhere in the source', async () => {
    const source = await sourceText(SOURCE_DIR);
    const unused = Object.keys(ADMIN_ERRORS).filter((code) => !source.includes(`'${code}'`));
    assert.deepEqual(unused, []);
  });

  test('every body carries error_msg, or message for Key not found, and no double spaces (DECISIONS.md)', () => {
    for (const [code, entry] of Object.entries(ADMIN_ERRORS)) {
      const body = (entry.body as (...args: unknown[]) => Record<string, string>)('x', 'y');
      const text = body.error_msg ?? body.message;
      assert.ok(typeof text === 'string' && text.length > 0, code);
      assert.doesNotMatch(JSON.stringify(body), / {2}/, code);
    }
  });
});
