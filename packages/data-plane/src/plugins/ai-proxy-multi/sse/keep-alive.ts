const LF = 0x0a;
const CR = 0x0d;
const COLON = 0x3a;

/**
 * Tells SSE keep-alives from content before the first token (WHATWG HTML §9.2.6: a line starting with
 * `:` is a comment). Providers such as OpenRouter send `: PROCESSING` comments while the model has not
 * produced anything yet; they must not count as the first token for `first_token_timeout_ms`.
 * Remembers whether the previous chunk ended inside a comment line, so a comment split across chunks is
 * still one. Scans bytes in place, without allocating.
 *
 * @example
 *   const scanner = new SseKeepAliveScanner();
 *   scanner.onlyKeepAlive(Buffer.from(': ping\n\n'));      // true
 *   scanner.onlyKeepAlive(Buffer.from('data: {"a":1}\n\n')); // false
 */
export class SseKeepAliveScanner {
  private inComment = false;
  private atLineStart = true;

  /** True when `bytes` hold nothing but comment lines and line breaks. */
  onlyKeepAlive(bytes: Uint8Array): boolean {
    for (let index = 0; index < bytes.length; index++) {
      const byte = bytes[index];
      if (byte === LF || byte === CR) {
        this.inComment = false;
        this.atLineStart = true;
      } else if (this.atLineStart) {
        if (byte !== COLON) return false;
        this.inComment = true;
        this.atLineStart = false;
      } else if (!this.inComment) {
        return false;
      }
    }
    return true;
  }
}
