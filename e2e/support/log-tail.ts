/**
 * Keeps the last `limitBytes` of a child's output, so a chatty process (access log on stdout under
 * load) cannot grow the test's memory, while a failure still has the recent lines to show.
 */
export interface LogTail {
  append(chunk: Buffer | string): void;
  text(): string;
}

export function createLogTail(limitBytes = 1 << 20): LogTail {
  let chunks: string[] = [];
  let size = 0;
  return {
    append(chunk) {
      const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
      chunks.push(text);
      size += text.length;
      if (size > limitBytes * 2) {
        const joined = chunks.join('');
        const kept = joined.slice(joined.length - limitBytes);
        chunks = [kept];
        size = kept.length;
      }
    },
    text() {
      const joined = chunks.join('');
      return joined.length > limitBytes ? joined.slice(joined.length - limitBytes) : joined;
    },
  };
}
