import type { ServerResponse } from 'node:http';
import { SwitchboardError } from '@switchboard/core';
import type { StreamObserver } from '../protocols/protocol.js';
import { type RelayEnd, type RelayInput, type RelayResult, readFailure } from '../relay.js';
import { createStreamEventSource, type StreamEventSource, type StreamFraming } from './event-source.js';
import { SseKeepAliveScanner } from './keep-alive.js';
import { createStreamCompletion, type StreamCompletion } from './stream-completion.js';
import { StreamCaps, streamLimitError } from './stream-limits.js';

const NO_OUTPUT_MESSAGE =
  'streaming response completed without producing any output; the upstream likely returned a different stream format than the converter expects';
const ENDED_EARLY_MESSAGE = 'failed to read response from LLM server: the stream ended before the answer was complete';

/** Resolves when the client can take more, or has gone (then the upstream is being aborted). */
function drainedOrClosed(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Streaming relay (ai-proxy-multi.md §6.3, DECISIONS "Beyond APISIX"): every upstream chunk is written to
 * the client as it arrives (one write per chunk; re-encoded events when a converter is active), waiting
 * for `drain` when the client is slower (back-pressure reaches the upstream socket through the paused
 * body). A copy of the bytes goes through the framing parser for usage and for the protocol's end
 * marker. The status line is held back until the first client byte, so a failure before it (including a
 * first-token or stall timeout, attempt-timers.ts) can still be answered or fallen back from; while the
 * first-token timeout runs, SSE comments (keep-alives) are held back with it and do not count as the
 * first token. After the first byte, a broken upstream, a timeout, a cap, or an upstream that ends
 * without its end marker (`[DONE]` or a finish reason, `message_stop`, …) ends the stream with the
 * client protocol's in-band error event and no terminal event: never a truncated stream that looks
 * complete. Events the parser cannot read are relayed unchanged (docs/balancing.md "Timeouts").
 *
 * @example
 *   const result = await relayEventStream(relayInput, 'sse');
 */
export function relayEventStream(input: RelayInput, framing: StreamFraming): Promise<RelayResult> {
  return new StreamRelay(input, framing).run();
}

/** The state of one relayed stream. */
class StreamRelay {
  private readonly observer: StreamObserver;
  private readonly source: StreamEventSource | undefined;
  /** The end marker check (2xx streams of protocols that have one). */
  private readonly completion: StreamCompletion | undefined;
  private readonly caps: StreamCaps;
  /** Set while `first_token_timeout_ms` waits on an SSE stream; dropped at the first token. */
  private keepAlives: SseKeepAliveScanner | undefined;
  /** Keep-alive chunks that arrived before the first token, sent ahead of it (no converter). */
  private held: Buffer[] | undefined;
  /** Client events the converter produced from the chunk being handled. */
  private converted = '';
  private sent = false;
  private firstTokenMs: number | undefined;

  constructor(
    private readonly input: RelayInput,
    framing: StreamFraming,
  ) {
    const { converter } = input;
    this.observer = input.target.createStreamObserver({ collectText: input.collectText });
    const completion = input.status >= 200 && input.status < 300 ? createStreamCompletion(input.target.id) : undefined;
    this.completion = completion;
    // Without a converter or anything to read, the bytes are only forwarded: no parsing at all.
    this.source =
      this.observer.wantsEvents || converter !== undefined || completion !== undefined
        ? createStreamEventSource(framing, {
            onEvent: (event) => {
              this.observer.onEvent(event);
              completion?.onEvent(event);
              if (converter !== undefined) this.converted += converter.convertStreamEvent(event);
            },
            onProblem: input.warn,
          })
        : undefined;
    this.caps = new StreamCaps(input.limits, input.elapsedMs, () => input.body.destroy());
    this.keepAlives = framing === 'sse' && input.watch.awaitsFirstToken ? new SseKeepAliveScanner() : undefined;
  }

  async run(): Promise<RelayResult> {
    try {
      for await (const chunk of this.input.body) {
        const bytes = chunk as Buffer;
        if (this.caps.admit(bytes.length) !== undefined) break;
        this.firstTokenMs ??= this.input.elapsedMs();
        this.source?.push(bytes);
        if (this.keepAlives !== undefined && this.heldAsKeepAlive(bytes)) continue;
        this.input.watch.chunk();
        await this.forward(bytes);
        if (this.input.isClientGone()) return this.result({ kind: 'client-gone' });
      }
    } catch (error) {
      if (this.caps.hit === undefined) return this.result(await this.readFailed(error));
    } finally {
      this.caps.stop();
    }
    return this.result(this.caps.hit === undefined ? await this.complete() : await this.capped());
  }

  /** A chunk of SSE comments only, before the first token: not the first token, sent ahead of it. */
  private heldAsKeepAlive(bytes: Buffer): boolean {
    if (!this.keepAlives?.onlyKeepAlive(bytes)) {
      this.keepAlives = undefined;
      return false;
    }
    // A converter drops comments anyway.
    if (this.input.converter === undefined) {
      this.held ??= [];
      this.held.push(bytes);
    }
    return true;
  }

  /** The raw chunk, or what the converter made of it (possibly nothing yet). */
  private async forward(bytes: Buffer): Promise<void> {
    if (this.input.converter === undefined) return this.send(bytes);
    if (this.converted === '') return;
    const out = this.converted;
    this.converted = '';
    return this.send(out);
  }

  private async send(out: string | Buffer): Promise<void> {
    const { res, watch } = this.input;
    if (!this.sent) this.startResponse();
    if (!res.write(out) && !res.destroyed) {
      // Upstream silence while the client catches up is not a stall.
      watch.clientBlocked(true);
      await drainedOrClosed(res);
      watch.clientBlocked(false);
    }
  }

  /** The status line, held back until the first client byte, and the keep-alives held with it. */
  private startResponse(): void {
    const { res } = this.input;
    this.sent = true;
    res.writeHead(this.input.status, this.input.headers);
    if (this.held === undefined) return;
    for (const keepAlive of this.held) res.write(keepAlive);
    this.held = undefined;
  }

  /** The upstream ended: close the client stream (a converter may add its closing events). */
  private async complete(): Promise<RelayEnd> {
    const { converter, res } = this.input;
    this.source?.end();
    const tail = converter?.endStream() ?? '';
    if (converter !== undefined && !this.sent && tail === '') {
      return { kind: 'failed', error: new SwitchboardError('SB_ERR_BAD_UPSTREAM_RESPONSE', NO_OUTPUT_MESSAGE) };
    }
    if (this.completion?.finished === false) return this.endedEarly();
    if (!this.sent) this.startResponse();
    await this.input.beforeEnd?.(this.observer.usage);
    res.end(tail);
    return { kind: 'relayed' };
  }

  /** The body ended cleanly but the answer did not (no `[DONE]` nor finish reason, no terminal event). */
  private endedEarly(): Promise<RelayEnd> {
    this.input.warn('AI stream ended without the end of the answer (no [DONE], finish reason or terminal event)');
    const error = new SwitchboardError('SB_ERR_UPSTREAM_CONNECT', ENDED_EARLY_MESSAGE);
    return this.sent ? this.endBroken(error) : Promise.resolve({ kind: 'failed', error });
  }

  private capped(): Promise<RelayEnd> {
    const limit = this.caps.hit ?? 'max_response_bytes';
    this.input.body.destroy();
    this.input.warn(
      `aborting AI stream: ${limit} exceeded; bytes=${this.caps.received} duration_ms=${Math.floor(this.input.elapsedMs())}`,
    );
    const error = streamLimitError(limit);
    return this.sent ? this.endBroken(error) : Promise.resolve({ kind: 'failed', error });
  }

  private async readFailed(error: unknown): Promise<RelayEnd> {
    const end = readFailure(error, this.input);
    return end.kind === 'failed' && this.sent ? this.endBroken(end.error) : end;
  }

  /** Ends a stream under way with the client protocol's error event, or cuts it when it has none. */
  private async endBroken(error: SwitchboardError): Promise<RelayEnd> {
    // The tokens streamed so far count against the quota (the estimate when the stream had no usage).
    await this.input.beforeEnd?.(this.observer.usage);
    const event = this.input.client.streamErrorEvent(error);
    if (event === undefined) this.input.res.destroy();
    else this.input.res.end(event);
    return { kind: 'broken-stream', error };
  }

  private result(end: RelayEnd): RelayResult {
    return {
      end,
      firstTokenMs: this.firstTokenMs,
      usage: this.observer.usage,
      hasToolCalls: this.observer.hasToolCalls,
      text: this.observer.text,
    };
  }
}
