import {
  createEventStreamDecoder,
  EventStreamDecodeError,
  eventStreamHeaderString,
} from '../../../upstream/aws-eventstream.js';
import { createSseEventSplitter, type SseEvent } from './sse-event-splitter.js';

/** How an upstream stream is framed (ai-proxy-multi.md §6.1 step 3, §6.3): SSE, or Bedrock's AWS EventStream. */
export type StreamFraming = 'sse' | 'aws-eventstream';

/** The framing of a streaming content type, or undefined for a whole (non-streaming) body. */
export function streamFramingOf(contentType: string): StreamFraming | undefined {
  if (contentType.includes('text/event-stream')) return 'sse';
  if (contentType.includes('application/vnd.amazon.eventstream')) return 'aws-eventstream';
  return undefined;
}

export interface StreamEventSource {
  /** Feeds a copy of the bytes just read; calls `onEvent` for every event they complete. */
  push(chunk: Buffer): void;
  /** At the end of the stream: an incomplete trailing event is discarded with a warning (§6.3 step 3). */
  end(): void;
}

/** §6.3 step 5: a partial event larger than this is dropped from parsing (never from the stream). */
const MAX_PENDING_SSE_CHARS = 1024 * 1024;

/**
 * Events out of an upstream byte stream, whatever its framing: SSE events as they are; EventStream
 * messages as events named by their `:event-type` (`exception` for exception messages) with the JSON
 * payload as data, so every protocol reads one shape. A framing error stops the parsing, never the relay.
 *
 * @example
 *   const source = createStreamEventSource('sse', { onEvent: (event) => observer.onEvent(event), onProblem: warn });
 *   source.push(chunk);
 */
export function createStreamEventSource(
  framing: StreamFraming,
  handlers: { readonly onEvent: (event: SseEvent) => void; readonly onProblem: (message: string) => void },
): StreamEventSource {
  if (framing === 'sse') {
    const splitter = createSseEventSplitter({
      maxPendingChars: MAX_PENDING_SSE_CHARS,
      onEvent: handlers.onEvent,
      onOverflow: () => handlers.onProblem('SSE event larger than 1 MiB dropped from usage parsing'),
    });
    return {
      // The splitter keeps its state in a closure: its `push` needs no `this`.
      push: splitter.push,
      end() {
        const leftover = splitter.end();
        if (leftover > 0)
          handlers.onProblem(`incomplete SSE event at the end of the stream discarded (${leftover} characters)`);
      },
    };
  }
  const decoder = createEventStreamDecoder();
  let broken = false;
  return {
    push(chunk) {
      if (broken) return;
      try {
        for (const message of decoder.push(chunk)) {
          const exception = eventStreamHeaderString(message, ':message-type') === 'exception';
          const type = exception ? 'exception' : (eventStreamHeaderString(message, ':event-type') ?? 'message');
          handlers.onEvent({ type, data: message.payload.toString('utf8') });
        }
      } catch (error) {
        if (!(error instanceof EventStreamDecodeError)) throw error;
        broken = true;
        handlers.onProblem(`AWS EventStream framing error, usage parsing stopped: ${error.message}`);
      }
    },
    end() {
      if (!broken && decoder.bufferedBytes > 0)
        handlers.onProblem(
          `incomplete AWS EventStream message at the end of the stream discarded (${decoder.bufferedBytes} bytes)`,
        );
    },
  };
}
