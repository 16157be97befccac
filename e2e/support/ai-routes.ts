/**
 * Builders for the route bodies the e2e tests and benchmarks PUT: an ai-proxy-multi route whose
 * instances point at mock LLM servers (ai-proxy-multi.md §1.3–1.7).
 */
export interface InstanceOptions {
  readonly name: string;
  /** The mock's base URL, plus an optional path and query (`override.endpoint`). */
  readonly endpoint: string;
  readonly weight?: number;
  readonly provider?: 'openai-compatible' | 'openai';
  readonly auth?: {
    readonly header?: Readonly<Record<string, string>>;
    readonly query?: Readonly<Record<string, string>>;
  };
  readonly options?: Readonly<Record<string, unknown>>;
}

export function aiInstance(options: InstanceOptions): Record<string, unknown> {
  return {
    name: options.name,
    provider: options.provider ?? 'openai-compatible',
    weight: options.weight ?? 1,
    auth: options.auth ?? { header: { Authorization: `Bearer key-${options.name}` } },
    ...(options.options === undefined ? {} : { options: options.options }),
    override: { endpoint: options.endpoint },
  };
}

export interface AiRouteOptions {
  readonly uri: string;
  readonly instances: ReadonlyArray<Record<string, unknown>>;
  /** Other plugins of the route (e.g. `{ 'key-auth': {} }`). */
  readonly plugins?: Readonly<Record<string, unknown>>;
  /** Other ai-proxy-multi fields (timeout, fallback_strategy, …). */
  readonly pluginFields?: Readonly<Record<string, unknown>>;
}

export function aiRoute(options: AiRouteOptions): Record<string, unknown> {
  return {
    uri: options.uri,
    plugins: {
      ...options.plugins,
      'ai-proxy-multi': { ...options.pluginFields, instances: options.instances },
    },
  };
}

export const CHAT_BODY = { model: 'client-model', messages: [{ role: 'user', content: 'Say hello.' }] } as const;
