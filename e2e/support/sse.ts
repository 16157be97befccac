/**
 * Splits an SSE byte stream into events as they arrive (blank-line framed), yielding each event's
 * `data` (multiple data lines joined by `\n`). Used to assert that a stream arrives event by event.
 */
export async function* readSseData(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let boundary = findBoundary(buffered);
    while (boundary !== undefined) {
      const rawEvent = buffered.slice(0, boundary.index);
      buffered = buffered.slice(boundary.index + boundary.length);
      const data = dataOf(rawEvent);
      if (data !== undefined) yield data;
      boundary = findBoundary(buffered);
    }
  }
}

function findBoundary(text: string): { index: number; length: number } | undefined {
  const lf = text.indexOf('\n\n');
  const crlf = text.indexOf('\r\n\r\n');
  if (lf === -1 && crlf === -1) return undefined;
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { index: crlf, length: 4 };
  return { index: lf, length: 2 };
}

function dataOf(rawEvent: string): string | undefined {
  const lines = rawEvent.split(/\r?\n/).filter((line) => line.startsWith('data:'));
  if (lines.length === 0) return undefined;
  return lines.map((line) => line.slice(5).replace(/^ /, '')).join('\n');
}
