import type { AdminMethod } from './admin-client.js';

/**
 * The Admin API cases pinned by admin-api.md §10 (and the §1.6 catalogue) that fail without
 * changing anything, as a table: request → status and exact body. e2e/admin-api.test.ts runs them
 * against a real control plane; DECISIONS.md deviations are noted where they apply.
 */

/** admin-api.md §10 case 1. */
export const ROUTE = {
  methods: ['GET'],
  upstream: { nodes: { '127.0.0.1:8080': 1 }, type: 'roundrobin' },
  desc: 'new route',
  uri: '/index.html',
};

export type Expected = { readonly exact: unknown } | { readonly errorMatches: RegExp };

export interface ErrorCase {
  readonly name: string;
  readonly method: AdminMethod;
  readonly path: string;
  readonly body?: string | object;
  readonly status: number;
  readonly expected: Expected;
}

export const errorMessage = (message: string) => ({ exact: { error_msg: message } });
const oversizedBody = JSON.stringify({
  ...ROUTE,
  desc: 'x'.repeat(1_678_025 - JSON.stringify({ ...ROUTE, desc: '' }).length),
});

/** Requests that must fail without changing anything; they run in any order. */
export const ERROR_CASES: readonly ErrorCase[] = [
  {
    name: '§10.8 URL id differs from body id',
    method: 'PUT',
    path: '/routes/1',
    body: { id: 3, uri: '/index.html' },
    status: 400,
    expected: errorMessage('wrong route id'),
  },
  {
    name: '§10.9 POST with an id in the body',
    method: 'POST',
    path: '/routes',
    body: { ...ROUTE, id: 1 },
    status: 400,
    expected: errorMessage('wrong route id, do not need it'),
  },
  {
    name: '§10.9 POST with an id in the URL',
    method: 'POST',
    path: '/routes/1',
    body: ROUTE,
    status: 400,
    expected: errorMessage('wrong route id, do not need it'),
  },
  {
    name: '§2.1 PUT without any id',
    method: 'PUT',
    path: '/routes',
    body: ROUTE,
    status: 400,
    expected: errorMessage('missing route id'),
  },
  {
    name: '§1.6 PUT without a body',
    method: 'PUT',
    path: '/routes/1',
    status: 400,
    expected: errorMessage('missing configurations'),
  },
  {
    name: '§10.10 unknown method in methods',
    method: 'PUT',
    path: '/routes/1',
    body: { ...ROUTE, methods: ['invalid_method'] },
    status: 400,
    expected: errorMessage(
      'invalid configuration: property "methods" validation failed: failed to validate item 1: matches none of the enum values',
    ),
  },
  {
    name: '§10.17 host and hosts',
    method: 'PUT',
    path: '/routes/1',
    body: { ...ROUTE, host: 'a.com', hosts: ['b.com'] },
    status: 400,
    expected: errorMessage('only one of host or hosts is allowed'),
  },
  {
    name: '§10.17 remote_addr and remote_addrs',
    method: 'PUT',
    path: '/routes/1',
    body: { ...ROUTE, remote_addr: '127.0.0.1', remote_addrs: ['127.0.0.2'] },
    status: 400,
    expected: errorMessage('only one of remote_addr or remote_addrs is allowed'),
  },
  {
    name: '§10.18 invalid remote_addr',
    method: 'PUT',
    path: '/routes/1',
    body: { ...ROUTE, remote_addr: '127.0.0.33333' },
    status: 400,
    expected: errorMessage(
      'invalid configuration: property "remote_addr" validation failed: object matches none of the required',
    ),
  },
  {
    name: '§10.16 host with an inner wildcard',
    method: 'PUT',
    path: '/routes/1',
    body: { ...ROUTE, host: 'a.*.foo.com' },
    status: 400,
    expected: { errorMatches: /^invalid configuration: property "host" validation failed: failed to match pattern/ },
  },
  {
    name: '§10.19 vars with a bad operator',
    method: 'PUT',
    path: '/routes/1',
    body: { ...ROUTE, vars: [['arg_name', '=', 'json']] },
    status: 400,
    expected: errorMessage("failed to validate the 'vars' expression: invalid operator '='"),
  },
  {
    name: '§10.20 uri and uris',
    method: 'PUT',
    path: '/routes/1',
    body: { ...ROUTE, uris: ['/a'] },
    status: 400,
    expected: { errorMatches: /value should match only one schema/ },
  },
  {
    name: '§10.20 empty uris',
    method: 'PUT',
    path: '/routes/1',
    body: { methods: ['GET'], upstream: ROUTE.upstream, uris: [] },
    status: 400,
    expected: { errorMatches: /property "uris" validation failed/ },
  },
  {
    name: '§10.21 a label that is not a string',
    method: 'PUT',
    path: '/routes/1',
    body: { ...ROUTE, labels: { env: { a: 1 } } },
    status: 400,
    expected: errorMessage(
      'invalid configuration: property "labels" validation failed: failed to validate env (matching ".*"): wrong type: expected string, got table',
    ),
  },
  {
    name: '§10.22 create_time in a PUT body (DECISIONS: one space)',
    method: 'PUT',
    path: '/routes/1',
    body: { ...ROUTE, create_time: 1 },
    status: 400,
    expected: errorMessage('the property is forbidden: create_time'),
  },
  {
    name: '§10.23 non-numeric ttl',
    method: 'PUT',
    path: '/routes/1?ttl=xxx',
    body: ROUTE,
    status: 400,
    expected: errorMessage('invalid argument ttl: should be a number'),
  },
  {
    name: '§10.24 body over 1.5 MiB',
    method: 'PUT',
    path: '/routes/1',
    body: oversizedBody,
    status: 400,
    expected: errorMessage(
      `invalid request body: request size ${Buffer.byteLength(oversizedBody)} is greater than the maximum size 1572864 allowed`,
    ),
  },
  {
    name: '§10.13 service_id that does not exist',
    method: 'PUT',
    path: '/routes/1',
    body: { uri: '/index.html', service_id: 99999999999999 },
    status: 400,
    expected: errorMessage('failed to fetch service info by service id [99999999999999], response code: 404'),
  },
  {
    name: '§10.14 upstream_id that does not exist',
    method: 'PUT',
    path: '/routes/1',
    body: { uri: '/index.html', upstream_id: 99999999 },
    status: 400,
    expected: errorMessage('failed to fetch upstream info by upstream id [99999999], response code: 404'),
  },
  {
    name: '§2.7 unknown plugin',
    method: 'PUT',
    path: '/routes/1',
    body: { uri: '/index.html', plugins: { 'no-such-plugin': {} } },
    status: 400,
    expected: errorMessage('unknown plugin [no-such-plugin]'),
  },
  {
    name: '§10.36 unknown resource',
    method: 'GET',
    path: '/routs',
    status: 404,
    expected: errorMessage('Unsupported resource type: routs'),
  },
  {
    name: '§10.4 DELETE a missing route',
    method: 'DELETE',
    path: '/routes/not_found',
    status: 404,
    expected: { exact: { message: 'Key not found' } },
  },
  {
    name: '§1.7 GET a missing route',
    method: 'GET',
    path: '/routes/not_found',
    status: 404,
    expected: { exact: { message: 'Key not found' } },
  },
  {
    name: '§10.39 consumer without username',
    method: 'PUT',
    path: '/consumers',
    body: { id: 'jack' },
    status: 400,
    expected: errorMessage('invalid configuration: property "username" is required'),
  },
  {
    name: '§10.41 POST a consumer',
    method: 'POST',
    path: '/consumers',
    body: { username: 'jack' },
    status: 405,
    expected: errorMessage('not supported `POST` method for consumer'),
  },
  {
    name: '§10.42 URL username differs',
    method: 'PUT',
    path: '/consumers/jack1',
    body: { username: 'jack' },
    status: 400,
    expected: errorMessage('wrong username'),
  },
  {
    name: '§10.44 credential of a missing consumer',
    method: 'PUT',
    path: '/consumers/nobody/credentials/credential_a',
    body: { plugins: { 'key-auth': { key: 'a-key-of-nobody' } } },
    status: 404,
    expected: errorMessage('consumer not found'),
  },
  {
    name: '§10.46 credential without an id',
    method: 'PUT',
    path: '/consumers/nobody/credentials',
    body: { plugins: { 'key-auth': { key: 'a-key-of-nobody' } } },
    status: 400,
    expected: errorMessage('missing credential id'),
  },
  {
    name: '§10.45 credential with two plugins',
    method: 'PUT',
    path: '/consumers/nobody/credentials/c2',
    body: { plugins: { 'key-auth': { key: 'k1' }, 'basic-auth': { username: 'u', password: 'p' } } },
    status: 400,
    expected: errorMessage(
      'invalid configuration: property "plugins" validation failed: expect object to have at most 1 properties',
    ),
  },
  {
    name: '§10.47 credentials of a missing consumer',
    method: 'GET',
    path: '/consumers/nobody/credentials',
    status: 404,
    expected: { exact: { message: 'Key not found' } },
  },
];
