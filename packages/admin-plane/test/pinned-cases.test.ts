import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HTTPMethods } from 'fastify';
import { type AdminHarness, ROUTE, startAdmin } from './harness.js';

/**
 * admin-api.md §10: the pinned Admin API cases, each on a fresh store, with status and exact body.
 * T is the injected clock in unix seconds.
 */

const T = 1_700_000_000;
const CIPHER_AUTH_ONE = '4y+JvURBE6ZwRbbgaryrhg==';

interface Step {
  readonly method: HTTPMethods;
  readonly path: string;
  readonly body?: unknown;
  readonly raw?: string;
}

interface PinnedCase extends Step {
  readonly name: string;
  /** Requests that prepare the store; each must answer 2xx. */
  readonly given?: readonly Step[];
  readonly status: number;
  /** The exact JSON body, or a function that asserts on it. */
  readonly expect: unknown;
}

const err = (message: string) => ({ error_msg: message });
const KEY_NOT_FOUND = { message: 'Key not found' };
const putRoute1: Step = { method: 'PUT', path: '/routes/1', body: ROUTE };
const putJack: Step = {
  method: 'PUT',
  path: '/consumers',
  body: { username: 'jack', plugins: { 'key-auth': { key: 'auth-one' } } },
};
const AI_PROXY_MULTI = {
  instances: [{ name: 'a', provider: 'openai', weight: 1, auth: { header: { Authorization: 'Bearer x' } } }],
};

function matchesError(pattern: RegExp) {
  return (body: unknown) => assert.match(String((body as { error_msg?: unknown }).error_msg), pattern);
}

const oversized = JSON.stringify({
  ...ROUTE,
  desc: 'x'.repeat(1_678_025 - JSON.stringify({ ...ROUTE, desc: '' }).length),
});

const CASES: readonly PinnedCase[] = [
  {
    name: '1 PUT a route → 201 {key, value} = input + id + times',
    ...putRoute1,
    status: 201,
    expect: { key: '/apisix/routes/1', value: { ...ROUTE, id: '1', create_time: T, update_time: T } },
  },
  {
    name: '2 GET a route → {key, value, createdIndex, modifiedIndex}',
    given: [putRoute1],
    method: 'GET',
    path: '/routes/1',
    status: 200,
    expect: (body: { createdIndex: unknown; modifiedIndex: unknown }) => {
      assert.ok(typeof body.createdIndex === 'number' && body.createdIndex === body.modifiedIndex);
      assert.deepEqual(body, {
        key: '/apisix/routes/1',
        value: { ...ROUTE, id: '1', create_time: T, update_time: T },
        createdIndex: body.createdIndex,
        modifiedIndex: body.modifiedIndex,
      });
    },
  },
  {
    name: '3 DELETE a route',
    given: [putRoute1],
    method: 'DELETE',
    path: '/routes/1',
    status: 200,
    expect: { deleted: '1', key: '/apisix/routes/1' },
  },
  { name: '4 DELETE a missing route', method: 'DELETE', path: '/routes/not_found', status: 404, expect: KEY_NOT_FOUND },
  {
    name: '5 POST generates a 20-digit id',
    method: 'POST',
    path: '/routes',
    body: ROUTE,
    status: 201,
    expect: (body: { key: string; value: Record<string, unknown> }) => {
      assert.match(body.key, /^\/apisix\/routes\/\d{20}$/);
      const id = body.key.slice('/apisix/routes/'.length);
      assert.deepEqual(body.value, { ...ROUTE, id, create_time: T, update_time: T });
    },
  },
  {
    name: '6 PUT /routes with a numeric body id keeps the integer',
    method: 'PUT',
    path: '/routes',
    body: { id: 1, ...ROUTE },
    status: 201,
    expect: { key: '/apisix/routes/1', value: { id: 1, ...ROUTE, create_time: T, update_time: T } },
  },
  {
    name: '7 PUT /routes with a string body id and empty plugins',
    method: 'PUT',
    path: '/routes',
    body: { id: '1', plugins: {}, uri: '/index.html' },
    status: 201,
    expect: {
      key: '/apisix/routes/1',
      value: { id: '1', plugins: {}, uri: '/index.html', create_time: T, update_time: T },
    },
  },
  {
    name: '8 URL id differs from body id',
    method: 'PUT',
    path: '/routes/1',
    body: { id: 3, uri: '/index.html' },
    status: 400,
    expect: err('wrong route id'),
  },
  {
    name: '9 POST with a body id',
    method: 'POST',
    path: '/routes',
    body: { id: 1, ...ROUTE },
    status: 400,
    expect: err('wrong route id, do not need it'),
  },
  {
    name: '9 POST with a URL id',
    method: 'POST',
    path: '/routes/1',
    body: ROUTE,
    status: 400,
    expect: err('wrong route id, do not need it'),
  },
  {
    name: '10 unknown method',
    ...putRoute1,
    body: { ...ROUTE, methods: ['invalid_method'] },
    status: 400,
    expect: err(
      'invalid configuration: property "methods" validation failed: failed to validate item 1: matches none of the enum values',
    ),
  },
  {
    name: '11 repeated method',
    ...putRoute1,
    body: { ...ROUTE, methods: ['GET', 'GET'] },
    status: 400,
    expect: err(
      'invalid configuration: property "methods" validation failed: expected unique items but items 1 and 2 are equal',
    ),
  },
  {
    name: '12 service_id of invalid form',
    ...putRoute1,
    body: { uri: '/index.html', service_id: 'invalid$' },
    status: 400,
    expect: err('invalid configuration: property "service_id" validation failed: object matches none of the required'),
  },
  {
    name: '12 upstream_id of invalid form',
    ...putRoute1,
    body: { uri: '/index.html', upstream_id: 'invalid$' },
    status: 400,
    expect: err('invalid configuration: property "upstream_id" validation failed: object matches none of the required'),
  },
  {
    name: '12 id 0',
    method: 'PUT',
    path: '/routes',
    body: { ...ROUTE, id: 0 },
    status: 400,
    expect: err('invalid configuration: property "id" validation failed: object matches none of the required'),
  },
  {
    name: '13 service_id that does not exist',
    ...putRoute1,
    body: { uri: '/index.html', service_id: 99999999999999 },
    status: 400,
    expect: err('failed to fetch service info by service id [99999999999999], response code: 404'),
  },
  {
    name: '14 upstream_id that does not exist',
    ...putRoute1,
    body: { uri: '/index.html', upstream_id: 99999999 },
    status: 400,
    expect: err('failed to fetch upstream info by upstream id [99999999], response code: 404'),
  },
  {
    name: '15 plugin_config_id that does not exist',
    ...putRoute1,
    body: { uri: '/index.html', upstream: ROUTE.upstream, plugin_config_id: 'not_found' },
    status: 400,
    expect: err('failed to fetch plugin config info by plugin config id [not_found], response code: 404'),
  },
  {
    name: '16 host with a leading wildcard is fine',
    ...putRoute1,
    body: { ...ROUTE, host: '*.foo.com' },
    status: 201,
    expect: {
      key: '/apisix/routes/1',
      value: { ...ROUTE, host: '*.foo.com', id: '1', create_time: T, update_time: T },
    },
  },
  {
    name: '16 host with an inner wildcard',
    ...putRoute1,
    body: { ...ROUTE, host: 'a.*.foo.com' },
    status: 400,
    expect: matchesError(/^invalid configuration: property "host" validation failed: failed to match pattern/),
  },
  {
    name: '17 host and hosts',
    ...putRoute1,
    body: { ...ROUTE, host: 'a.com', hosts: ['b.com'] },
    status: 400,
    expect: err('only one of host or hosts is allowed'),
  },
  {
    name: '17 remote_addr and remote_addrs',
    ...putRoute1,
    body: { ...ROUTE, remote_addr: '127.0.0.1', remote_addrs: ['127.0.0.2'] },
    status: 400,
    expect: err('only one of remote_addr or remote_addrs is allowed'),
  },
  {
    name: '18 invalid remote_addr',
    ...putRoute1,
    body: { ...ROUTE, remote_addr: '127.0.0.33333' },
    status: 400,
    expect: err('invalid configuration: property "remote_addr" validation failed: object matches none of the required'),
  },
  {
    name: '19 vars with a bad operator',
    ...putRoute1,
    body: { ...ROUTE, vars: [['arg_name', '=', 'json']] },
    status: 400,
    expect: err("failed to validate the 'vars' expression: invalid operator '='"),
  },
  {
    name: '20 uri and uris',
    ...putRoute1,
    body: { ...ROUTE, uris: ['/a'] },
    status: 400,
    expect: matchesError(/value should match only one schema/),
  },
  {
    name: '20 empty uris',
    ...putRoute1,
    body: { methods: ['GET'], upstream: ROUTE.upstream, uris: [] },
    status: 400,
    expect: matchesError(/property "uris" validation failed/),
  },
  {
    name: '21 a label that is not a string',
    ...putRoute1,
    body: { ...ROUTE, labels: { env: { a: 1 } } },
    status: 400,
    expect: err(
      'invalid configuration: property "labels" validation failed: failed to validate env (matching ".*"): wrong type: expected string, got table',
    ),
  },
  {
    name: '22 create_time in a PUT (DECISIONS: one space)',
    ...putRoute1,
    body: { ...ROUTE, create_time: 1 },
    status: 400,
    expect: err('the property is forbidden: create_time'),
  },
  {
    name: '22 update_time in a POST',
    method: 'POST',
    path: '/routes',
    body: { ...ROUTE, update_time: 1 },
    status: 400,
    expect: err('the property is forbidden: update_time'),
  },
  {
    name: '22 upstream.create_time',
    ...putRoute1,
    body: { ...ROUTE, upstream: { ...ROUTE.upstream, create_time: 1 } },
    status: 400,
    expect: err('the property is forbidden: upstream.create_time'),
  },
  {
    name: '22 plugins.update_time',
    ...putRoute1,
    body: { ...ROUTE, plugins: { update_time: 1 } },
    status: 400,
    expect: err('the property is forbidden: plugins.update_time'),
  },
  {
    name: '22 create_time in a consumer PUT',
    method: 'PUT',
    path: '/consumers',
    body: { username: 'jack', create_time: 1 },
    status: 400,
    expect: err('the property is forbidden: create_time'),
  },
  {
    name: '23 non-numeric ttl',
    method: 'PUT',
    path: '/routes/1?ttl=xxx',
    body: ROUTE,
    status: 400,
    expect: err('invalid argument ttl: should be a number'),
  },
  {
    name: '24 body over 1.5 MiB',
    ...putRoute1,
    raw: oversized,
    status: 400,
    expect: err('invalid request body: request size 1678025 is greater than the maximum size 1572864 allowed'),
  },
  {
    name: '25 uri + plugins + script',
    ...putRoute1,
    body: { uri: '/index.html', plugins: {}, script: 'local _M = {} return _M' },
    status: 400,
    expect: err("invalid configuration: value wasn't supposed to match schema"),
  },
  {
    name: '26 chash without key',
    ...putRoute1,
    body: { uri: '/index.html', upstream: { nodes: { '127.0.0.1:8080': 1 }, type: 'chash', hash_on: 'header' } },
    status: 400,
    expect: err('missing key'),
  },
  {
    name: '26 chash on consumer needs no key',
    ...putRoute1,
    body: { uri: '/index.html', upstream: { nodes: { '127.0.0.1:8080': 1 }, type: 'chash', hash_on: 'consumer' } },
    status: 201,
    expect: (body: { key: unknown }) => assert.equal(body.key, '/apisix/routes/1'),
  },
  {
    name: '27 an id with invalid characters',
    method: 'PUT',
    path: '/routes/*invalid',
    body: ROUTE,
    status: 400,
    expect: err('invalid configuration: property "id" validation failed: object matches none of the required'),
  },
  {
    name: '27 DELETE an id with dashes and underscores',
    given: [{ method: 'PUT', path: '/routes/a-b-c-ABC_0123', body: ROUTE }],
    method: 'DELETE',
    path: '/routes/a-b-c-ABC_0123',
    status: 200,
    expect: { deleted: '1', key: '/apisix/routes/a-b-c-ABC_0123' },
  },
  {
    name: '31 an empty store lists no routes',
    method: 'GET',
    path: '/routes',
    status: 200,
    expect: { list: [], total: 0 },
  },
  {
    name: '31 an empty store lists no consumers',
    method: 'GET',
    path: '/consumers',
    status: 200,
    expect: { list: [], total: 0 },
  },
  {
    name: '36 unknown resource',
    method: 'GET',
    path: '/routs',
    status: 404,
    expect: err('Unsupported resource type: routs'),
  },
  {
    name: '37 PUT a consumer: no id in the value',
    method: 'PUT',
    path: '/consumers',
    body: { username: 'jack', desc: 'new consumer' },
    status: 201,
    expect: {
      key: '/apisix/consumers/jack',
      value: { username: 'jack', desc: 'new consumer', create_time: T, update_time: T },
    },
  },
  {
    name: '38 a key-auth key is encrypted in the PUT answer',
    ...putJack,
    status: 201,
    expect: {
      key: '/apisix/consumers/jack',
      value: { username: 'jack', plugins: { 'key-auth': { key: CIPHER_AUTH_ONE } }, create_time: T, update_time: T },
    },
  },
  {
    name: '38 GET decrypts',
    given: [putJack],
    method: 'GET',
    path: '/consumers/jack',
    status: 200,
    expect: (body: { value: unknown }) =>
      assert.deepEqual(body.value, {
        username: 'jack',
        plugins: { 'key-auth': { key: 'auth-one' } },
        create_time: T,
        update_time: T,
      }),
  },
  {
    name: '39 consumer without username',
    method: 'PUT',
    path: '/consumers',
    body: { id: 'jack' },
    status: 400,
    expect: err('invalid configuration: property "username" is required'),
  },
  {
    name: '40 username with dashes and underscores → 201',
    method: 'PUT',
    path: '/consumers',
    body: { username: 'Jack-and-Rose_123' },
    status: 201,
    expect: {
      key: '/apisix/consumers/Jack-and-Rose_123',
      value: { username: 'Jack-and-Rose_123', create_time: T, update_time: T },
    },
  },
  {
    name: '41 POST a consumer',
    method: 'POST',
    path: '/consumers',
    body: { username: 'jack' },
    status: 405,
    expect: err('not supported `POST` method for consumer'),
  },
  {
    name: '41 PATCH a consumer',
    method: 'PATCH',
    path: '/consumers/jack',
    body: { desc: 'x' },
    status: 405,
    expect: err('not supported `PATCH` method for consumer'),
  },
  {
    name: '42 URL username differs',
    method: 'PUT',
    path: '/consumers/jack1',
    body: { username: 'jack' },
    status: 400,
    expect: err('wrong username'),
  },
  {
    name: '43 a second consumer with the same key',
    given: [putJack],
    method: 'PUT',
    path: '/consumers',
    body: { username: 'case_b', plugins: { 'key-auth': { key: 'auth-one' } } },
    status: 400,
    expect: err('duplicate key of plugin key-auth found with consumer: jack'),
  },
  {
    name: '43 re-PUT of the owner with the same key',
    given: [putJack],
    ...putJack,
    status: 200,
    expect: {
      key: '/apisix/consumers/jack',
      value: { username: 'jack', plugins: { 'key-auth': { key: CIPHER_AUTH_ONE } }, create_time: T, update_time: T },
    },
  },
  {
    name: '44 credential of a missing consumer',
    method: 'PUT',
    path: '/consumers/jack/credentials/credential_a',
    body: { plugins: { 'key-auth': { key: 'the-key' } } },
    status: 404,
    expect: err('consumer not found'),
  },
  {
    name: '44 a malformed credential of a missing consumer is a 400 first',
    method: 'PUT',
    path: '/consumers/jack/credentials/credential_a',
    body: { plugins: { 'key-auth': {} } },
    status: 400,
    expect: matchesError(/^invalid plugins configuration: /),
  },
  {
    name: '45 a credential with a non-auth plugin',
    given: [putJack],
    method: 'PUT',
    path: '/consumers/jack/credentials/c1',
    body: { plugins: { 'ai-proxy-multi': AI_PROXY_MULTI } },
    status: 400,
    expect: err('only supports auth type plugins in consumer credential'),
  },
  {
    name: '45 a credential with two plugins',
    given: [putJack],
    method: 'PUT',
    path: '/consumers/jack/credentials/c1',
    body: { plugins: { 'key-auth': { key: 'k1' }, 'ai-proxy-multi': AI_PROXY_MULTI } },
    status: 400,
    expect: err(
      'invalid configuration: property "plugins" validation failed: expect object to have at most 1 properties',
    ),
  },
  {
    name: '46 credential id from the body',
    given: [putJack],
    method: 'PUT',
    path: '/consumers/jack/credentials',
    body: { id: 'credential_b', desc: 'key-auth for jack', plugins: { 'key-auth': { key: 'the-key' } } },
    status: 201,
    expect: {
      key: '/apisix/consumers/jack/credentials/credential_b',
      value: {
        id: 'credential_b',
        desc: 'key-auth for jack',
        plugins: { 'key-auth': { key: 'JCX7x1qN5e9kHt0GuJfWpw==' } },
        create_time: T,
        update_time: T,
      },
    },
  },
  {
    name: '46 credential without any id',
    given: [putJack],
    method: 'PUT',
    path: '/consumers/jack/credentials',
    body: { plugins: { 'key-auth': { key: 'the-key' } } },
    status: 400,
    expect: err('missing credential id'),
  },
  {
    name: '47 credentials of a missing consumer',
    method: 'GET',
    path: '/consumers/jack/credentials',
    status: 404,
    expect: KEY_NOT_FOUND,
  },
  {
    name: '47 DECISIONS: an existing consumer without credentials lists none',
    given: [putJack],
    method: 'GET',
    path: '/consumers/jack/credentials',
    status: 200,
    expect: { list: [], total: 0 },
  },
  {
    name: "48 a credential reusing another consumer's credential key",
    given: [
      { method: 'PUT', path: '/consumers', body: { username: 'alex' } },
      {
        method: 'PUT',
        path: '/consumers/alex/credentials/cred-alex-a',
        body: { plugins: { 'key-auth': { key: 'alex-key' } } },
      },
      { method: 'PUT', path: '/consumers', body: { username: 'bob' } },
    ],
    method: 'PUT',
    path: '/consumers/bob/credentials/cred-bob-a',
    body: { plugins: { 'key-auth': { key: 'alex-key' } } },
    status: 400,
    expect: err('duplicate key of plugin key-auth found with credential: cred-alex-a of consumer: alex'),
  },
  {
    name: "48 a credential reusing its own consumer's inline key",
    given: [
      { method: 'PUT', path: '/consumers', body: { username: 'bob', plugins: { 'key-auth': { key: 'bob-key' } } } },
    ],
    method: 'PUT',
    path: '/consumers/bob/credentials/cred-bob-a',
    body: { plugins: { 'key-auth': { key: 'bob-key' } } },
    status: 400,
    expect: err('duplicate key of plugin key-auth found with consumer: bob'),
  },
  {
    name: '48 re-PUT of the same credential with the same key',
    given: [
      { method: 'PUT', path: '/consumers', body: { username: 'bob' } },
      {
        method: 'PUT',
        path: '/consumers/bob/credentials/cred-bob-a',
        body: { plugins: { 'key-auth': { key: 'bob-key' } } },
      },
    ],
    method: 'PUT',
    path: '/consumers/bob/credentials/cred-bob-a',
    body: { plugins: { 'key-auth': { key: 'bob-key' } } },
    status: 200,
    expect: (body: { key: unknown }) => assert.equal(body.key, '/apisix/consumers/bob/credentials/cred-bob-a'),
  },
];

async function runStep(admin: AdminHarness, step: Step) {
  return admin.call(step.method, step.path, {
    ...(step.body === undefined ? {} : { body: step.body }),
    ...(step.raw === undefined ? {} : { raw: step.raw }),
  });
}

describe('admin-api.md §10 pinned cases', () => {
  for (const pinned of CASES) {
    test(pinned.name, async () => {
      const admin = await startAdmin();
      try {
        for (const step of pinned.given ?? []) {
          const answer = await runStep(admin, step);
          assert.ok(
            answer.status === 200 || answer.status === 201,
            `given ${step.method} ${step.path}: ${answer.status} ${answer.text}`,
          );
        }
        const answer = await runStep(admin, pinned);
        assert.equal(answer.status, pinned.status, answer.text);
        if (typeof pinned.expect === 'function') (pinned.expect as (body: unknown) => void)(answer.json);
        else assert.deepEqual(answer.json, pinned.expect);
      } finally {
        await admin.close();
      }
    });
  }
});
