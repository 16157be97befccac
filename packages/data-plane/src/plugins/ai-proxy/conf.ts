import type { AiProxyConf as AiProxySchemaConf } from '@switchboard/core';
import type { AiProxyMultiConf } from '../ai-proxy-multi/conf.js';

/** Fields whose schema default is always materialised on the validated conf (ai-proxy-multi.md §1.1). */
type DefaultedField =
  | 'timeout'
  | 'max_req_body_size'
  | 'keepalive'
  | 'keepalive_timeout'
  | 'keepalive_pool'
  | 'ssl_verify';

/** The ai-proxy conf as `prepare` receives it: validated by `AiProxySchema`, defaults applied. */
export type AiProxyConf = AiProxySchemaConf & Required<Pick<AiProxySchemaConf, DefaultedField>>;

/**
 * ai-proxy as an ai-proxy-multi conf with one instance (ai-proxy-multi.md §1.2, §3.6): the instance is
 * named `ai-proxy-<provider>`, the name ai-rate-limiting knows it by (§9.1). A single instance is never
 * retried and needs no balancer, so one engine serves both plugins.
 *
 * @example
 *   asSingleInstanceConf({ provider: 'openai', auth: {}, ...defaults }).instances[0].name; // 'ai-proxy-openai'
 */
export function asSingleInstanceConf(conf: AiProxyConf): AiProxyMultiConf {
  const { provider, provider_conf, auth, options, override, _meta, ...transport } = conf;
  return {
    ...transport,
    instances: [
      {
        name: `ai-proxy-${provider}`,
        provider,
        weight: 1,
        priority: 0,
        auth,
        ...(provider_conf === undefined ? {} : { provider_conf }),
        ...(options === undefined ? {} : { options }),
        ...(override === undefined ? {} : { override }),
      },
    ],
  };
}
