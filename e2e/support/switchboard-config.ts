import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { freePort } from './ports.js';

export type SwitchboardRole = 'traditional' | 'control_plane' | 'data_plane';

/** A config.yaml as a plain object (APISIX keys). */
export type ConfigObject = { [key: string]: unknown };

export interface NodeAddresses {
  readonly adminUrl?: string;
  readonly adminKey?: string;
  readonly proxyUrl?: string;
  readonly statusUrl?: string;
}

export function hasAdmin(role: SwitchboardRole): boolean {
  return role !== 'data_plane';
}

export function hasProxy(role: SwitchboardRole): boolean {
  return role !== 'control_plane';
}

/**
 * Fills in what a test usually does not care about, without overriding anything it set: the role,
 * free ports for every listener, an admin key, one worker (the CI machine has 2 cores), and for a
 * traditional node without etcd an embedded data dir inside `workDir`.
 */
export async function completeConfig(
  role: SwitchboardRole,
  given: ConfigObject,
  workDir: string,
): Promise<ConfigObject> {
  const config = structuredClone(given);
  const deployment = objectAt(config, 'deployment');
  deployment.role = role;
  if (role === 'control_plane') objectAt(deployment, 'role_control_plane').config_provider ??= 'etcd';
  if (role === 'data_plane') objectAt(deployment, 'role_data_plane').config_provider ??= 'etcd';
  if (hasAdmin(role)) {
    const admin = objectAt(deployment, 'admin');
    admin.admin_key ??= [{ name: 'admin', key: randomLetters(32), role: 'admin' }];
    admin.admin_listen ??= { ip: '127.0.0.1', port: await freePort() };
  }
  if (hasProxy(role)) {
    const apisix = objectAt(config, 'apisix');
    apisix.node_listen ??= [await freePort()];
    apisix.status ??= { ip: '127.0.0.1', port: await freePort() };
    objectAt(config, 'nginx_config').worker_processes ??= 1;
  }
  if (role === 'traditional' && deployment.etcd === undefined) {
    objectAt(deployment, 'embedded').data_dir ??= join(workDir, 'data');
  }
  return config;
}

/** Where a completed config says the node listens, as URLs a client on loopback can use. */
export function addressesOf(role: SwitchboardRole, config: ConfigObject): NodeAddresses {
  const addresses: { -readonly [K in keyof NodeAddresses]: NodeAddresses[K] } = {};
  const deployment = objectAt(config, 'deployment');
  if (hasAdmin(role)) {
    const admin = objectAt(deployment, 'admin');
    const listen = admin.admin_listen;
    if (isObject(listen)) addresses.adminUrl = urlOf(listen.ip, listen.port);
    const keys = admin.admin_key;
    const first = Array.isArray(keys) ? keys.find((entry) => isObject(entry) && entry.role !== 'viewer') : undefined;
    if (isObject(first) && typeof first.key === 'string') addresses.adminKey = first.key;
  }
  if (hasProxy(role)) {
    const apisix = objectAt(config, 'apisix');
    const listen: unknown = Array.isArray(apisix.node_listen) ? apisix.node_listen[0] : apisix.node_listen;
    if (typeof listen === 'number') addresses.proxyUrl = urlOf('127.0.0.1', listen);
    else if (isObject(listen)) addresses.proxyUrl = urlOf(listen.ip, listen.port);
    const status = apisix.status;
    if (isObject(status)) addresses.statusUrl = urlOf(status.ip, status.port);
  }
  return addresses;
}

function urlOf(ip: unknown, port: unknown): string {
  // A wildcard listener is reached through loopback.
  const host = typeof ip !== 'string' || ip === '0.0.0.0' || ip === '::' ? '127.0.0.1' : ip;
  return `http://${host.includes(':') ? `[${host}]` : host}:${String(port)}`;
}

export function randomLetters(length: number): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  return Array.from({ length }, () => letters[randomInt(letters.length)]).join('');
}

function objectAt(parent: ConfigObject, key: string): ConfigObject {
  const existing = parent[key];
  if (isObject(existing)) return existing;
  const created: ConfigObject = {};
  parent[key] = created;
  return created;
}

function isObject(value: unknown): value is ConfigObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
