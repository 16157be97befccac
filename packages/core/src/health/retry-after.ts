/**
 * How long a 429 asks the client to wait, in ms: `retry-after-ms` (OpenAI, Azure) wins over
 * `retry-after`, which is delta-seconds or an HTTP date (RFC 9110 §10.2.3). Undefined when neither
 * header is present or parses; a date in the past is 0.
 *
 * @example
 *   parseRetryAfterMs({ 'retry-after': '2' }, Date.now()); // 2000
 *   parseRetryAfterMs({ 'retry-after-ms': '150' }, Date.now()); // 150
 */
export function parseRetryAfterMs(
  headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  nowEpochMs: number,
): number | undefined {
  const milliseconds = firstValue(headers['retry-after-ms']);
  if (milliseconds !== undefined && /^\d+(\.\d+)?$/.test(milliseconds)) return Math.ceil(Number(milliseconds));
  const value = firstValue(headers['retry-after']);
  if (value === undefined) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowEpochMs);
}

function firstValue(value: string | readonly string[] | undefined): string | undefined {
  const first = typeof value === 'string' ? value : value?.[0];
  const trimmed = first?.trim();
  return trimmed === '' ? undefined : trimmed;
}
