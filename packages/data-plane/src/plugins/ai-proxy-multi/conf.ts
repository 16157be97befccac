import type { AiProxyMultiConf as AiProxyMultiSchemaConf } from '@switchboard/core';

/** Fields whose schema default is always materialised on the validated conf (ai-proxy-multi.md §1.1). */
type DefaultedField =
  | 'timeout'
  | 'max_req_body_size'
  | 'keepalive'
  | 'keepalive_timeout'
  | 'keepalive_pool'
  | 'ssl_verify';

/**
 * The conf as `prepare` receives it: `Static<typeof AiProxyMultiSchema>` after validation with defaults,
 * so the top-level transport fields are present (their schema type says optional only because TypeBox
 * types the input, not the defaulted output).
 */
export type AiProxyMultiConf = AiProxyMultiSchemaConf & Required<Pick<AiProxyMultiSchemaConf, DefaultedField>>;

export type AiProxyMultiInstanceConf = AiProxyMultiConf['instances'][number];
