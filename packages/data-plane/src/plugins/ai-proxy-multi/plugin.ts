import type { RuntimePlugin } from '../runtime-plugin.js';

/** STUB (helper ai-proxy-multi replaces it): the runtime half of ai-proxy-multi. */
export const aiProxyMultiPlugin: RuntimePlugin = {
  name: 'ai-proxy-multi',
  prepare: () => undefined,
  access: () => ({ status: 501, body: { error_msg: 'ai-proxy-multi is not implemented yet' } }),
};
