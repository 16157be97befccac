import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isRecord } from './scenario.js';

/**
 * The canned response bodies, read once from `e2e/mock-llm/fixtures/*.json`. The compiled module
 * lives in `e2e/dist/mock-llm/`, so the default directory is found relative to it.
 */
export interface MockFixtures {
  /** A full `chat.completion` body; `id`, `created` and `model` are filled in per response. */
  readonly chatCompletion: Record<string, unknown>;
  readonly chatStream: {
    readonly model: string;
    readonly deltas: readonly string[];
    readonly usage: Record<string, unknown>;
  };
  readonly embeddings: {
    readonly model: string;
    readonly embedding: readonly number[];
    readonly usage: Record<string, unknown>;
  };
  readonly error429: ErrorFixture;
  readonly error5xx: ErrorFixture;
}

export interface ErrorFixture {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Record<string, unknown>;
}

export const DEFAULT_FIXTURES_DIR = fileURLToPath(new URL('../../mock-llm/fixtures/', import.meta.url));

export class FixtureError extends Error {
  override readonly name = 'FixtureError';
}

export function loadFixtures(dir: string = DEFAULT_FIXTURES_DIR): MockFixtures {
  const read = (file: string): Record<string, unknown> => {
    const parsed: unknown = JSON.parse(readFileSync(`${dir}/${file}`, 'utf8'));
    if (!isRecord(parsed)) throw new FixtureError(`${file}: expected a JSON object`);
    return parsed;
  };
  const stream = read('chat-stream.json');
  const embeddings = read('embeddings.json');
  return {
    chatCompletion: read('chat-completion.json'),
    chatStream: {
      model: stringField(stream, 'model', 'chat-stream.json'),
      deltas: stringArrayField(stream, 'deltas', 'chat-stream.json'),
      usage: recordField(stream, 'usage', 'chat-stream.json'),
    },
    embeddings: {
      model: stringField(embeddings, 'model', 'embeddings.json'),
      embedding: numberArrayField(embeddings, 'embedding', 'embeddings.json'),
      usage: recordField(embeddings, 'usage', 'embeddings.json'),
    },
    error429: errorFixture(read('error-429.json'), 'error-429.json'),
    error5xx: errorFixture(read('error-5xx.json'), 'error-5xx.json'),
  };
}

function errorFixture(record: Record<string, unknown>, file: string): ErrorFixture {
  const headers = recordField(record, 'headers', file);
  const stringHeaders: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') throw new FixtureError(`${file}: header ${name} must be a string`);
    stringHeaders[name] = value;
  }
  return { headers: stringHeaders, body: recordField(record, 'body', file) };
}

function stringField(record: Record<string, unknown>, field: string, file: string): string {
  const value = record[field];
  if (typeof value !== 'string') throw new FixtureError(`${file}: "${field}" must be a string`);
  return value;
}

function recordField(record: Record<string, unknown>, field: string, file: string): Record<string, unknown> {
  const value = record[field];
  if (!isRecord(value)) throw new FixtureError(`${file}: "${field}" must be an object`);
  return value;
}

function stringArrayField(record: Record<string, unknown>, field: string, file: string): string[] {
  const value = record[field];
  if (!Array.isArray(value) || value.length === 0 || !value.every((item) => typeof item === 'string')) {
    throw new FixtureError(`${file}: "${field}" must be a non-empty array of strings`);
  }
  return value;
}

function numberArrayField(record: Record<string, unknown>, field: string, file: string): number[] {
  const value = record[field];
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'number')) {
    throw new FixtureError(`${file}: "${field}" must be an array of numbers`);
  }
  return value;
}
