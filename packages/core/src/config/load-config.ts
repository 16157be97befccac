import { availableParallelism } from 'node:os';
import { type TSchema, TypeGuard } from '@sinclair/typebox';
import { TypeCompiler, type ValueError } from '@sinclair/typebox/compiler';
import { parseDocument } from 'yaml';
import { SwitchboardError } from '../errors.js';
import { applyDefaults } from '../validation/apply-defaults.js';
import { type ConfigFile, ConfigFileSchema, type ListenAddressConfig } from './config-file-schema.js';

/**
 * Reads an APISIX-style config.yaml into a validated, defaulted, frozen ConfigFile (STYLE §8).
 * Order: `${{VAR}}` substitution (as APISIX does) → YAML parse → environment overrides → unknown-key
 * warnings → schema validation naming the key → defaults → cross-field rules → freeze.
 *
 * @example
 *   const { config, warnings } = loadConfig({ text: 'deployment: {role: data_plane}', env: process.env });
 */
export interface LoadConfigOptions {
  /** File content; empty or undefined means "all defaults". */
  readonly text?: string;
  /** Where the text came from, for messages. */
  readonly source?: string;
  /** The environment, passed in by the CLI (the only reader of process.env). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface LoadedConfig {
  readonly config: ConfigFile;
  readonly warnings: readonly string[];
}

/** Environment variables that override config.yaml keys (docs/configuration.md). */
export const ENV_OVERRIDES: readonly { readonly name: string; readonly key: string; readonly help: string }[] = [
  { name: 'SWITCHBOARD_ROLE', key: 'deployment.role', help: 'traditional | control_plane | data_plane' },
  { name: 'SWITCHBOARD_NODE_LISTEN', key: 'apisix.node_listen', help: 'comma list of ports or ip:port' },
  { name: 'SWITCHBOARD_WORKER_PROCESSES', key: 'nginx_config.worker_processes', help: 'a number or auto' },
  { name: 'SWITCHBOARD_STATUS_LISTEN', key: 'apisix.status', help: 'ip:port of the status server' },
  { name: 'SWITCHBOARD_ADMIN_LISTEN', key: 'deployment.admin.admin_listen', help: 'ip:port of the Admin API' },
  { name: 'SWITCHBOARD_ADMIN_KEY', key: 'deployment.admin.admin_key', help: 'the admin role key' },
  { name: 'SWITCHBOARD_ALLOW_ADMIN', key: 'deployment.admin.allow_admin', help: 'comma list of CIDRs' },
  { name: 'SWITCHBOARD_ETCD_HOST', key: 'deployment.etcd.host', help: 'comma list of etcd URLs' },
  { name: 'SWITCHBOARD_ETCD_PREFIX', key: 'deployment.etcd.prefix', help: 'key prefix, default /apisix' },
  { name: 'SWITCHBOARD_DATA_DIR', key: 'deployment.embedded.data_dir', help: 'embedded store directory' },
  { name: 'SWITCHBOARD_ACCESS_LOG', key: 'nginx_config.http.access_log', help: 'access log file' },
];

const checkConfigFile = TypeCompiler.Compile(ConfigFileSchema);

export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const source = options.source ?? 'config.yaml';
  const env = options.env ?? {};
  const text = substituteEnv(options.text ?? '', env, source);
  const raw = parseYaml(text, source);
  applyEnvOverrides(raw, env, source);
  const warnings = collectUnknownKeys(ConfigFileSchema, raw, '').map(
    (key) => `${source}: unknown key ${key} is ignored`,
  );

  const defaulted = applyDefaults(ConfigFileSchema, structuredClone(raw));
  const firstError = checkConfigFile.Errors(defaulted).First();
  if (firstError !== undefined) throw invalid(source, describe(firstError));
  const config = defaulted as ConfigFile;
  checkCrossFieldRules(config, source);
  return { config: deepFreeze(config), warnings };
}

/** `${{NAME}}` and `${{NAME:=default}}` as in APISIX's config.yaml. */
function substituteEnv(text: string, env: LoadConfigOptions['env'] & object, source: string): string {
  return text.replace(
    /\$\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::=\s*([^}]*?))?\s*\}\}/g,
    (_match, name: string, fallback?: string) => {
      const value = env[name] ?? fallback;
      if (value === undefined) throw invalid(source, `environment variable ${name} is referenced but not set`);
      return value;
    },
  );
}

function parseYaml(text: string, source: string): Record<string, unknown> {
  const document = parseDocument(text, { prettyErrors: true });
  const [error] = document.errors;
  if (error !== undefined) throw invalid(source, `not valid YAML: ${error.message}`);
  const value = document.toJS() as unknown;
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(source, 'the top level must be a mapping');
  return value as Record<string, unknown>;
}

function applyEnvOverrides(
  raw: Record<string, unknown>,
  env: NonNullable<LoadConfigOptions['env']>,
  source: string,
): void {
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };
  const list = (value: string): string[] =>
    value
      .split(',')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  const address = (name: string, value: string): { ip: string; port: number } => {
    const match = /^(?:(.+):)?(\d+)$/.exec(value);
    if (match === null) throw invalid(source, `${name} must be ip:port or a port, got "${value}"`);
    return { ip: match[1] ?? '0.0.0.0', port: Number(match[2]) };
  };
  const integerOr = (value: string): number | string => (/^\d+$/.test(value) ? Number(value) : value);

  const role = read('SWITCHBOARD_ROLE');
  if (role !== undefined) setPath(raw, ['deployment', 'role'], role);
  const nodeListen = read('SWITCHBOARD_NODE_LISTEN');
  if (nodeListen !== undefined) {
    setPath(
      raw,
      ['apisix', 'node_listen'],
      list(nodeListen).map((item) => (/^\d+$/.test(item) ? Number(item) : address('SWITCHBOARD_NODE_LISTEN', item))),
    );
  }
  const workers = read('SWITCHBOARD_WORKER_PROCESSES');
  if (workers !== undefined) setPath(raw, ['nginx_config', 'worker_processes'], integerOr(workers));
  const status = read('SWITCHBOARD_STATUS_LISTEN');
  if (status !== undefined) setPath(raw, ['apisix', 'status'], address('SWITCHBOARD_STATUS_LISTEN', status));
  const adminListen = read('SWITCHBOARD_ADMIN_LISTEN');
  if (adminListen !== undefined)
    setPath(raw, ['deployment', 'admin', 'admin_listen'], address('SWITCHBOARD_ADMIN_LISTEN', adminListen));
  const adminKey = read('SWITCHBOARD_ADMIN_KEY');
  if (adminKey !== undefined)
    setPath(raw, ['deployment', 'admin', 'admin_key'], [{ name: 'admin', key: adminKey, role: 'admin' }]);
  const allowAdmin = read('SWITCHBOARD_ALLOW_ADMIN');
  if (allowAdmin !== undefined) setPath(raw, ['deployment', 'admin', 'allow_admin'], list(allowAdmin));
  const etcdHost = read('SWITCHBOARD_ETCD_HOST');
  if (etcdHost !== undefined) setPath(raw, ['deployment', 'etcd', 'host'], list(etcdHost));
  const etcdPrefix = read('SWITCHBOARD_ETCD_PREFIX');
  if (etcdPrefix !== undefined) setPath(raw, ['deployment', 'etcd', 'prefix'], etcdPrefix);
  const dataDir = read('SWITCHBOARD_DATA_DIR');
  if (dataDir !== undefined) setPath(raw, ['deployment', 'embedded', 'data_dir'], dataDir);
  const accessLog = read('SWITCHBOARD_ACCESS_LOG');
  if (accessLog !== undefined) setPath(raw, ['nginx_config', 'http', 'access_log'], accessLog);
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/** Keys the schema does not declare are warned about, not rejected: APISIX files carry many we ignore. */
function collectUnknownKeys(schema: TSchema, value: unknown, path: string): string[] {
  if (!TypeGuard.IsObject(schema) || value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const unknown: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === '' ? key : `${path}.${key}`;
    const property = schema.properties[key];
    if (property === undefined) unknown.push(childPath);
    else unknown.push(...collectUnknownKeys(property, child, childPath));
  }
  return unknown;
}

function describe(error: ValueError): string {
  const key = error.path
    .split('/')
    .filter((segment) => segment !== '')
    .join('.');
  const got = error.value === undefined ? '' : ` (got ${JSON.stringify(error.value)})`;
  return `${key === '' ? 'the file' : key}: ${error.message}${got}`;
}

function checkCrossFieldRules(config: ConfigFile, source: string): void {
  const { role } = config.deployment;
  if ((role === 'control_plane' || role === 'data_plane') && config.deployment.etcd === undefined) {
    throw invalid(source, `deployment.etcd: role ${role} needs an etcd (deployment.etcd.host)`);
  }
  if (
    role === 'traditional' &&
    config.deployment.role_traditional.config_provider === 'etcd' &&
    config.deployment.etcd === undefined
  ) {
    throw invalid(source, 'deployment.etcd: config_provider etcd needs deployment.etcd.host');
  }
  const names = new Set<string>();
  for (const entry of config.deployment.admin.admin_key) {
    if (names.has(entry.name)) throw invalid(source, `deployment.admin.admin_key: duplicate name "${entry.name}"`);
    names.add(entry.name);
  }
}

function invalid(source: string, message: string): SwitchboardError {
  return new SwitchboardError('SB_ERR_CONFIG_INVALID', `invalid configuration in ${source}: ${message}`);
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Which store a node uses: etcd when the role needs it or an etcd is configured, else embedded. */
export function resolveConfigProvider(config: ConfigFile): 'etcd' | 'embedded' {
  if (config.deployment.role !== 'traditional') return 'etcd';
  return (
    config.deployment.role_traditional.config_provider ?? (config.deployment.etcd === undefined ? 'embedded' : 'etcd')
  );
}

/** `apisix.node_listen` in its three forms (port, list of ports, list of {ip, port}) → addresses. */
export function resolveNodeListen(config: ConfigFile): ListenAddressConfig[] {
  const listen = config.apisix.node_listen;
  const entries = Array.isArray(listen) ? listen : [listen];
  return entries.map((entry) => (typeof entry === 'number' ? { ip: '0.0.0.0', port: entry } : entry));
}

/** `nginx_config.worker_processes`: `auto` is one worker per core. */
export function resolveWorkerCount(config: ConfigFile, cores: number = availableParallelism()): number {
  const workers = config.nginx_config.worker_processes;
  return workers === 'auto' ? cores : workers;
}

/** Which planes a role runs (admin-api.md §9). */
export function planesOf(config: ConfigFile): { readonly admin: boolean; readonly proxy: boolean } {
  switch (config.deployment.role) {
    case 'traditional':
      return { admin: config.apisix.enable_admin ?? true, proxy: true };
    case 'control_plane':
      return { admin: true, proxy: false };
    case 'data_plane':
      return { admin: false, proxy: true };
  }
}
