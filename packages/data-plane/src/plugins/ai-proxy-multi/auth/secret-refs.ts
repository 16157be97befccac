import type { PrepareScope } from '../../runtime-plugin.js';
import type { AiProxyMultiInstanceConf } from '../conf.js';
import type { PreparedInstance } from '../prepare.js';
import type { ProviderEnv } from './provider-auth-runtime.js';

type InstanceAuth = AiProxyMultiInstanceConf['auth'];

/** Why a reference in `auth` could not be resolved. Never carries a resolved value. */
export interface SecretRefFailure {
  /** Where the reference sits, e.g. `auth.header.Authorization`. */
  readonly field: string;
  /** The environment variable a `$env://` reference names. */
  readonly variable: string | undefined;
  readonly reason: string;
}

export type AuthSecretResolution =
  | { readonly ok: true; readonly auth: InstanceAuth }
  | { readonly ok: false; readonly failure: SecretRefFailure };

/** APISIX matches the env prefix case-insensitively (`$ENV://` works) and the secret prefix exactly. */
const ENV_PREFIX = '$env://';
const SECRET_PREFIX = '$secret://';

/** Whether a value is a secret reference (ai-proxy-multi.md §1.5), resolved here rather than sent. */
export function isSecretReference(value: string): boolean {
  return value.startsWith(SECRET_PREFIX) || value.slice(0, ENV_PREFIX.length).toLowerCase() === ENV_PREFIX;
}

type Variables = Readonly<Record<string, string | undefined>>;

/**
 * `$env://NAME` is the variable's value; `$env://NAME/key` reads `key` of the variable's JSON object (as
 * APISIX's env secret does, one level; the key may itself contain `/`). Reasons never quote the value.
 */
function resolveEnvReference(reference: string, field: string, variables: Variables): string | SecretRefFailure {
  const path = reference.slice(ENV_PREFIX.length);
  const slash = path.indexOf('/');
  const variable = slash === -1 ? path : path.slice(0, slash);
  const key = slash === -1 ? '' : path.slice(slash + 1);
  const failure = (reason: string): SecretRefFailure => ({ field, variable, reason });
  if (variable === '') return failure('the reference names no environment variable');
  const value = Object.hasOwn(variables, variable) ? variables[variable] : undefined;
  if (value === undefined) return failure(`environment variable ${variable} is not set`);
  if (key === '') return value;
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return failure(`environment variable ${variable} is not JSON, so its key ${key} cannot be read`);
  }
  const picked =
    typeof parsed === 'object' && parsed !== null && Object.hasOwn(parsed, key)
      ? (parsed as Record<string, unknown>)[key]
      : undefined;
  return typeof picked === 'string' ? picked : failure(`environment variable ${variable} has no string key ${key}`);
}

function resolveValue(value: string, field: string, variables: Variables): string | SecretRefFailure {
  if (value.startsWith(SECRET_PREFIX)) {
    return {
      field,
      variable: undefined,
      reason: '$secret:// references (secret managers) are not supported; use $env://NAME',
    };
  }
  if (isSecretReference(value)) return resolveEnvReference(value, field, variables);
  return value;
}

/**
 * The instance's `auth` with every secret reference resolved (ai-proxy-multi.md §1.5): the values of
 * `header` and `query`, `gcp.service_account_json` and the `aws` credentials. The first reference that
 * does not resolve is the failure; other values are kept as they are.
 *
 * @example
 *   resolveAuthSecretRefs({ header: { Authorization: '$env://OPENAI_AUTH' } }, { OPENAI_AUTH: 'Bearer sk-1' });
 *   // { ok: true, auth: { header: { Authorization: 'Bearer sk-1' } } }
 */
export function resolveAuthSecretRefs(auth: InstanceAuth, variables: Variables): AuthSecretResolution {
  let failure: SecretRefFailure | undefined;
  const resolve = (value: string, field: string): string => {
    if (failure !== undefined) return value;
    const resolved = resolveValue(value, field, variables);
    if (typeof resolved === 'string') return resolved;
    failure = resolved;
    return value;
  };
  const resolveMap = (values: Readonly<Record<string, string>>, field: string): Record<string, string> =>
    Object.fromEntries(Object.entries(values).map(([name, value]) => [name, resolve(value, `${field}.${name}`)]));

  const resolved: InstanceAuth = { ...auth };
  if (auth.header !== undefined) resolved.header = resolveMap(auth.header, 'auth.header');
  if (auth.query !== undefined) resolved.query = resolveMap(auth.query, 'auth.query');
  const json = auth.gcp?.service_account_json;
  if (auth.gcp !== undefined && json !== undefined)
    resolved.gcp = { ...auth.gcp, service_account_json: resolve(json, 'auth.gcp.service_account_json') };
  if (auth.aws !== undefined) {
    const { session_token } = auth.aws;
    resolved.aws = {
      access_key_id: resolve(auth.aws.access_key_id, 'auth.aws.access_key_id'),
      secret_access_key: resolve(auth.aws.secret_access_key, 'auth.aws.secret_access_key'),
      ...(session_token === undefined ? {} : { session_token: resolve(session_token, 'auth.aws.session_token') }),
    };
  }
  return failure === undefined ? { ok: true, auth: resolved } : { ok: false, failure };
}

/**
 * Prepares one instance with its auth secret references resolved. References are resolved here, once
 * per config change, not per request: the only source is the process environment the CLI read at
 * start, which cannot change afterwards (APISIX also snapshots it at start-up).
 *
 * A reference that does not resolve disables the instance, never the route: it is logged as an error
 * naming the holder key, the instance, the field and the variable (never a value), and the instance
 * is prepared without `auth`, every way to it failing like a connect error, so fallback moves on and
 * the literal `$env://…` is never sent upstream (APISIX sends it).
 *
 * @example
 *   const prepared = prepareWithSecretRefs(instance, { env, scope }, (resolved) => prepareInstance(resolved));
 */
export function prepareWithSecretRefs(
  instance: AiProxyMultiInstanceConf,
  context: { readonly env: ProviderEnv; readonly scope: PrepareScope },
  prepare: (resolved: AiProxyMultiInstanceConf) => PreparedInstance,
): PreparedInstance {
  const { scope } = context;
  const resolution = resolveAuthSecretRefs(instance.auth, context.env.variables ?? {});
  if (resolution.ok) return prepare({ ...instance, auth: resolution.auth });

  const { field, variable, reason } = resolution.failure;
  scope.logger.error(
    { key: scope.holderKey, instance: instance.name, field, ...(variable === undefined ? {} : { variable }) },
    `ai instance '${instance.name}' of ${scope.holderKey} disabled: cannot resolve the secret reference in ${field}: ${reason}`,
  );
  const unusable = {
    ok: false,
    reason: `unresolved secret reference in ${field} of instance '${instance.name}'`,
  } as const;
  const prepared = prepare({ ...instance, auth: {} });
  return {
    ...prepared,
    locations: new Map([...prepared.locations.keys()].map((protocol) => [protocol, unusable])),
    passthrough: unusable,
  };
}
