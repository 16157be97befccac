import type { VarsContext } from '../expr/vars-expression.js';
import type { HashOn } from '../schema/upstream.js';

/** Where a request's chash key comes from (ai-proxy-multi.md §2.5). */
export interface HashKeyRule {
  readonly hash_on: HashOn;
  /** Not needed for `consumer`; the checker enforces it for every other `hash_on`. */
  readonly key?: string | undefined;
}

export interface HashKeySource {
  readonly vars: VarsContext;
  /** The authenticated consumer's name, for `hash_on: consumer`. */
  readonly consumerName: string | undefined;
  /** The client address: the key when the configured one is missing or empty. */
  readonly remoteAddr: string;
}

export interface ResolvedHashKey {
  readonly key: string;
  /** True when the configured key was missing or empty and the client address was used (APISIX warns). */
  readonly fellBack: boolean;
}

/** nginx variable names that our request variables spell differently. */
const VARIABLE_ALIASES: Readonly<Record<string, string>> = { query_string: 'args' };

function readVariable(vars: VarsContext, name: string): string | undefined {
  const value = vars.get(VARIABLE_ALIASES[name] ?? name);
  if (value === undefined || value === null) return undefined;
  const text = String(value);
  return text === '' ? undefined : text;
}

/** `$remote_addr$http_x_user` or `${remote_addr}-${http_x_user}`: each variable substituted, undefined when none resolved. */
function substituteVariables(template: string, vars: VarsContext): string | undefined {
  let resolved = false;
  const key = template.replace(/\$\{([A-Za-z0-9_.-]+)\}|\$([A-Za-z0-9_]+)/g, (_match, braced, plain) => {
    const value = readVariable(vars, String(braced ?? plain));
    if (value !== undefined) resolved = true;
    return value ?? '';
  });
  return resolved ? key : undefined;
}

function configuredKey(rule: HashKeyRule, source: HashKeySource): string | undefined {
  const key = rule.key ?? '';
  switch (rule.hash_on) {
    case 'vars':
      return readVariable(source.vars, key);
    case 'header':
      // Header lookup is case-insensitive with `-` and `_` equivalent, as nginx's `http_*` variables.
      return readVariable(source.vars, `http_${key.toLowerCase().replaceAll('-', '_')}`);
    case 'cookie':
      return readVariable(source.vars, `cookie_${key}`);
    case 'consumer':
      return source.consumerName === '' ? undefined : source.consumerName;
    case 'vars_combinations':
      return substituteVariables(key, source.vars);
  }
}

/**
 * The chash key of one request (ai-proxy-multi.md §2.5): a variable, header, cookie, the consumer name or
 * a `vars_combinations` template; a missing or empty key falls back to the client address.
 *
 * @example
 *   resolveHashKey({ hash_on: 'header', key: 'X-Session-Id' }, { vars, consumerName: undefined, remoteAddr: '10.0.0.1' });
 *   // { key: '<the header value>', fellBack: false }, or { key: '10.0.0.1', fellBack: true } without the header
 */
export function resolveHashKey(rule: HashKeyRule, source: HashKeySource): ResolvedHashKey {
  const key = configuredKey(rule, source);
  return key === undefined ? { key: source.remoteAddr, fellBack: true } : { key, fellBack: false };
}
