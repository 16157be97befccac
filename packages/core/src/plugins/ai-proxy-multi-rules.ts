import type { TSchema } from '@sinclair/typebox';
import { AI_PROVIDERS, type AiProxyConf } from '../schema/plugins/ai-proxy.js';
import type { AiInstanceConf, AiProxyMultiConf } from '../schema/plugins/ai-proxy-multi.js';
import { HASH_KEY_SCHEMAS } from '../schema/upstream.js';
import { describeSchemaError } from '../validation/checker.js';

/**
 * The cross-field rules of ai-proxy-multi.md §1.11, run on a conf that already passed its schema
 * (defaults applied). Each returns the first failure, worded exactly as APISIX, or undefined.
 */

/** `scheme://host[:port][/...]` with scheme http or https and a non-empty host (a Lua pattern in APISIX). */
const ENDPOINT = /^(https?):\/\/([^:/]+):?([0-9]*)\/?.*$/s;

type TargetConf = Pick<AiInstanceConf, 'provider' | 'provider_conf' | 'auth' | 'override'>;

/** @example checkAiProxyMultiRules(conf) // "duplicate instance name 'a' at instances[1] and instances[3]" */
export function checkAiProxyMultiRules(conf: AiProxyMultiConf): string | undefined {
  const firstIndexByName = new Map<string, number>();
  for (const [index, instance] of conf.instances.entries()) {
    const position = index + 1;
    const first = firstIndexByName.get(instance.name);
    if (first !== undefined) {
      return `duplicate instance name '${instance.name}' at instances[${first}] and instances[${position}]`;
    }
    firstIndexByName.set(instance.name, position);
    const endpoint = instance.override?.endpoint;
    if (endpoint !== undefined && !ENDPOINT.test(endpoint)) return 'invalid endpoint';
    const targetError = providerError(instance) ?? serviceAccountError(instance);
    if (targetError !== undefined) return targetError;
    const requirement = providerRequirementError(instance);
    if (requirement !== undefined) return `instance '${instance.name}': ${requirement}`;
  }
  return chashError(conf) ?? semanticError(conf);
}

/** ai-proxy: the same rules minus the endpoint check and the instance prefix (§1.11, last line). */
export function checkAiProxyRules(conf: AiProxyConf): string | undefined {
  return providerError(conf) ?? serviceAccountError(conf) ?? providerRequirementError(conf);
}

function providerError(target: TargetConf): string | undefined {
  return AI_PROVIDERS.includes(target.provider) ? undefined : `ai provider: ${target.provider} is not supported.`;
}

function serviceAccountError(target: TargetConf): string | undefined {
  const json = target.auth.gcp?.service_account_json;
  if (json === undefined || isSecretReference(json)) return undefined;
  try {
    JSON.parse(json);
    return undefined;
  } catch (error) {
    return `invalid gcp service_account_json: ${(error as Error).message}`;
  }
}

function providerRequirementError(target: TargetConf): string | undefined {
  const providerConf = target.provider_conf;
  if (target.provider === 'vertex-ai') {
    const complete = providerConf?.project_id !== undefined && providerConf.region !== undefined;
    if (!complete && target.override?.endpoint === undefined) {
      return 'vertex-ai requires either provider_conf (project_id + region) or override.endpoint';
    }
  }
  if (target.provider === 'bedrock') {
    if (providerConf?.region === undefined) return 'bedrock requires provider_conf.region';
    if (target.auth.aws === undefined) return 'bedrock requires auth.aws';
  }
  return undefined;
}

function chashError(conf: AiProxyMultiConf): string | undefined {
  const balancer = conf.balancer;
  if (balancer?.algorithm !== 'chash') return undefined;
  const hashOn = balancer.hash_on;
  if (hashOn === undefined) return 'must configure `hash_on` when balancer algorithm is chash';
  if (hashOn === 'consumer') return undefined;
  if (balancer.key === undefined) return 'must configure `hash_key` when balancer `hash_on` is not set to cookie';
  const keySchema: TSchema = HASH_KEY_SCHEMAS[hashOn];
  const keyError = describeSchemaError(keySchema, balancer.key);
  return keyError === undefined ? undefined : `invalid configuration: ${keyError}`;
}

function semanticError(conf: AiProxyMultiConf): string | undefined {
  if (conf.balancer?.algorithm !== 'semantic') return undefined;
  const embeddings = conf.semantic_opts?.embeddings;
  if (embeddings === undefined) return 'must configure `semantic_opts.embeddings` when balancer algorithm is semantic';
  if (embeddings.endpoint !== undefined && !ENDPOINT.test(embeddings.endpoint)) {
    return 'invalid `semantic_opts.embeddings.endpoint`';
  }
  if (embeddings.provider === 'azure-openai') {
    if (embeddings.endpoint === undefined) {
      return 'must configure `semantic_opts.embeddings.endpoint` when embeddings provider is azure-openai';
    }
    if (!hasPath(embeddings.endpoint)) {
      return (
        '`semantic_opts.embeddings.endpoint` for azure-openai must include the full deployment path, e.g. ' +
        'https://{resource}.openai.azure.com/openai/deployments/{deployment}/embeddings?api-version=...'
      );
    }
  }
  for (const instance of conf.instances) {
    if (!(instance.examples ?? []).some((example) => example !== '')) {
      return `instance '${instance.name}': must configure non-empty \`examples\` for the semantic algorithm`;
    }
  }
  const fallback = conf.semantic_opts?.fallback;
  if (fallback !== undefined && !conf.instances.some((instance) => instance.name === fallback)) {
    return `\`semantic_opts.fallback\` names unknown instance '${fallback}'`;
  }
  return undefined;
}

function hasPath(endpoint: string): boolean {
  try {
    const { pathname } = new URL(endpoint);
    return pathname !== '' && pathname !== '/';
  } catch {
    return false;
  }
}

/**
 * `$secret://…` and `$env://…` values are resolved by the data plane (§1.5), so their content is not
 * checked here. The env prefix matches in any case (`$ENV://`), as in APISIX.
 */
function isSecretReference(value: string): boolean {
  return value.startsWith('$secret://') || value.slice(0, '$env://'.length).toLowerCase() === '$env://';
}
