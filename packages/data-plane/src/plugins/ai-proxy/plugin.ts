import { type AiProxyMultiDeps, createAiProxyMultiPlugin } from '../ai-proxy-multi/plugin.js';
import type { PreparedAiProxyMulti } from '../ai-proxy-multi/prepare.js';
import type { RuntimePlugin } from '../runtime-plugin.js';
import { type AiProxyConf, asSingleInstanceConf } from './conf.js';

/**
 * The runtime half of ai-proxy (ai-proxy-multi.md §1.2): the ai-proxy-multi engine over a one-instance
 * conf, so requests, protocols, conversion, caps and logging behave exactly alike; with one instance
 * there is no balancing and no retry (§3.6).
 *
 * @example
 *   const plugin = createAiProxyPlugin({ random: Math.random, now: () => performance.now() });
 */
export function createAiProxyPlugin(deps: AiProxyMultiDeps): RuntimePlugin<AiProxyConf, PreparedAiProxyMulti> {
  const engine = createAiProxyMultiPlugin(deps);
  return {
    ...engine,
    name: 'ai-proxy',
    prepare: (conf, scope) => engine.prepare(asSingleInstanceConf(conf), scope),
  };
}
