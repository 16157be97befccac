import { BlockList, isIP } from 'node:net';
import { SwitchboardError } from '@switchboard/core';
import type { onRequestAsyncHookHandler } from 'fastify';
import { adminError } from './errors.js';

/** `::ffff:127.0.0.1` (an IPv4 client on a dual-stack socket) is matched as `127.0.0.1`. */
function normaliseAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

function addEntry(list: BlockList, entry: string): void {
  const [address = '', prefixText] = entry.trim().split('/', 2);
  const family = isIP(address);
  const prefix = prefixText === undefined ? undefined : Number(prefixText);
  const maxPrefix = family === 6 ? 128 : 32;
  if (family === 0 || (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= maxPrefix))) {
    throw new SwitchboardError('SB_ERR_CONFIG_INVALID', `deployment.admin.allow_admin: invalid CIDR "${entry}"`);
  }
  const type = family === 6 ? 'ipv6' : 'ipv4';
  if (prefix === undefined) list.addAddress(address, type);
  else list.addSubnet(address, prefix, type);
}

/**
 * The `allow_admin` CIDR list (admin-api.md §1.3): a client outside it gets 403 before anything else
 * runs, the token check included. An empty list allows everyone, as nginx's `allow all`.
 * @example createAllowAdminHook(['127.0.0.0/24', '10.0.0.0/8'])
 */
export function createAllowAdminHook(allowAdmin: readonly string[]): onRequestAsyncHookHandler {
  if (allowAdmin.length === 0) return async () => {};
  const allowed = new BlockList();
  for (const entry of allowAdmin) addEntry(allowed, entry);
  return async (request) => {
    const address = normaliseAddress(request.socket.remoteAddress ?? '');
    const family = isIP(address);
    if (family === 0 || !allowed.check(address, family === 6 ? 'ipv6' : 'ipv4')) {
      throw adminError('SB_ADMIN_FORBIDDEN');
    }
  };
}
