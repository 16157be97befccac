/** One server-sent event (WHATWG HTML §9.2): `type` defaults to `message`, data lines joined by `\n`. */
export interface SseEvent {
  readonly type: string;
  readonly data: string;
}

export interface SseEventSplitter {
  /** Feeds a copy of the bytes just relayed; calls `onEvent` for every event they complete. */
  push(chunk: Uint8Array): void;
  /**
   * At the end of the stream: the characters of an incomplete trailing event, which are discarded
   * (§6.3 step 3); 0 when the stream ended on an event boundary or with blank lines only.
   */
  end(): number;
}

const EVENT_BOUNDARY = /\r?\n\r?\n/g;

function parseEvent(block: string): SseEvent | undefined {
  let type = 'message';
  const data: string[] = [];
  for (const line of block.split(/\r?\n/)) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') type = value;
  }
  return data.length === 0 && type === 'message' ? undefined : { type, data: data.join('\n') };
}

/**
 * Splits a relayed SSE byte stream into events for usage and timing (ai-proxy-multi.md §6.3 step 5),
 * never holding the stream itself: only the trailing partial event is kept, and if that leftover
 * grows past `maxPendingChars` it is dropped (`onOverflow`), so a stream without boundaries cannot grow
 * memory. Multi-byte characters split across chunks are decoded correctly.
 *
 * @example
 *   const splitter = createSseEventSplitter({ maxPendingChars: 1 << 20, onEvent: (event) => console.log(event.data) });
 *   splitter.push(Buffer.from('data: {"a":1}\n\nda'));  // logs {"a":1}; keeps "da"
 */
export function createSseEventSplitter(options: {
  readonly maxPendingChars: number;
  readonly onEvent: (event: SseEvent) => void;
  readonly onOverflow?: () => void;
}): SseEventSplitter {
  const decoder = new TextDecoder('utf-8');
  let pending = '';

  return {
    push(chunk) {
      pending += decoder.decode(chunk, { stream: true });
      let consumed = 0;
      EVENT_BOUNDARY.lastIndex = 0;
      for (let match = EVENT_BOUNDARY.exec(pending); match !== null; match = EVENT_BOUNDARY.exec(pending)) {
        const event = parseEvent(pending.slice(consumed, match.index));
        if (event !== undefined) options.onEvent(event);
        consumed = match.index + match[0].length;
      }
      pending = pending.slice(consumed);
      if (pending.length > options.maxPendingChars) {
        pending = '';
        options.onOverflow?.();
      }
    },
    end() {
      const leftover = (pending + decoder.decode()).trim();
      pending = '';
      return leftover.length;
    },
  };
}
