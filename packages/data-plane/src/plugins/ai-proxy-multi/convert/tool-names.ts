import { createHash } from 'node:crypto';

const VALID_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * Tool names as OpenAI accepts them (≤ 64 of `[a-zA-Z0-9_-]`, ai-proxy-multi.md §4.6): a valid name is
 * kept; any other is cleaned, shortened and given a hash suffix so two names never collide, and the
 * original is restored in responses. One map per request.
 *
 * @example
 *   const names = new ToolNameMap();
 *   names.toTarget('web.search'); // 'web_search_1f2e3d4c'
 *   names.toClient('web_search_1f2e3d4c'); // 'web.search'
 */
export class ToolNameMap {
  private readonly originals = new Map<string, string>();

  toTarget(name: string): string {
    if (VALID_TOOL_NAME.test(name)) return name;
    const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
    const cleaned = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64 - hash.length - 1);
    const sanitized = `${cleaned}_${hash}`;
    this.originals.set(sanitized, name);
    return sanitized;
  }

  toClient(name: string): string {
    return this.originals.get(name) ?? name;
  }
}
