import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkResource, checkResourcePlugins, checkResourceShape, type ResourceKind } from '../src/resources/check.js';

const upstream = { nodes: { '127.0.0.1:8080': 1 }, type: 'roundrobin' };
const instance = { name: 'a', provider: 'openai', weight: 1, auth: { header: { Authorization: 'Bearer x' } } };

/** [what, kind, body, complete error_msg] — admin mode; admin-api.md §2.3, §2.7, §3.2, §3.3, §10. */
const REJECTED: ReadonlyArray<readonly [string, ResourceKind, unknown, string]> = [
  [
    '17 host and hosts',
    'routes',
    { uri: '/i', upstream, host: 'a.com', hosts: ['b.com'] },
    'only one of host or hosts is allowed',
  ],
  [
    '17 remote_addr and remote_addrs',
    'routes',
    { uri: '/i', upstream, remote_addr: '1.1.1.1', remote_addrs: ['2.2.2.2'] },
    'only one of remote_addr or remote_addrs is allowed',
  ],
  [
    '10 schema error prefixed',
    'routes',
    { uri: '/i', upstream, methods: ['invalid_method'] },
    'invalid configuration: property "methods" validation failed: failed to validate item 1: matches none of the enum values',
  ],
  [
    '19 bad vars operator',
    'routes',
    { uri: '/i', upstream, vars: [['arg_name', '=', 'json']] },
    "failed to validate the 'vars' expression: invalid operator '='",
  ],
  [
    'vars not wrapped',
    'routes',
    { uri: '/i', upstream, vars: ['arg_name', '==', 'json'] },
    "failed to validate the 'vars' expression: rule should be wrapped inside brackets",
  ],
  [
    '26 chash without key',
    'routes',
    { uri: '/i', upstream: { ...upstream, type: 'chash', hash_on: 'header' } },
    'missing key',
  ],
  [
    '26 chash, hash_on defaults to vars',
    'routes',
    { uri: '/i', upstream: { ...upstream, type: 'chash' } },
    'missing key',
  ],
  [
    'chash vars key format',
    'upstreams',
    { ...upstream, type: 'chash', key: 'not_support' },
    'invalid configuration: failed to match pattern "^((uri|server_name|server_addr|request_uri|remote_port|remote_addr|query_string|host|hostname|mqtt_client_id)|arg_[0-9a-zA-z_-]+)$" with "not_support"',
  ],
  [
    'node port out of range',
    'routes',
    { uri: '/i', upstream: { nodes: { '127.0.0.1:99999': 1 } } },
    'invalid port 99999',
  ],
  [
    'pass_host rewrite without host',
    'upstreams',
    { ...upstream, pass_host: 'rewrite' },
    "`upstream_host` can't be empty when `pass_host` is `rewrite`",
  ],
  [
    'bare IPv6 node host',
    'upstreams',
    { nodes: [{ host: '::1', port: 80, weight: 1 }] },
    "IPv6 address must be enclosed with '[' and ']'",
  ],
  ['unknown plugin', 'routes', { uri: '/i', plugins: { 'no-such-plugin': {} } }, 'unknown plugin [no-such-plugin]'],
  [
    'plugin conf not an object',
    'routes',
    { uri: '/i', plugins: { 'key-auth': 'x' } },
    'invalid plugin conf "x" for plugin [key-auth]',
  ],
  [
    'plugin schema error',
    'routes',
    { uri: '/i', plugins: { 'key-auth': { header: 1 } } },
    'failed to check the configuration of plugin key-auth err: property "header" validation failed: wrong type: expected string, got number',
  ],
  [
    'plugin _meta.filter',
    'routes',
    { uri: '/i', plugins: { 'key-auth': { _meta: { filter: [['arg_a', 'bad', 1]] } } } },
    "failed to validate the 'vars' expression: invalid operator 'bad'",
  ],
  [
    '_meta.pre_function refused',
    'routes',
    { uri: '/i', plugins: { 'key-auth': { _meta: { pre_function: 'return 1' } } } },
    'failed to check the configuration of plugin key-auth err: property "_meta" validation failed: additional properties forbidden, found pre_function',
  ],
  [
    'ai-proxy-multi cross-field rule',
    'routes',
    { uri: '/i', plugins: { 'ai-proxy-multi': { instances: [instance, instance] } } },
    "failed to check the configuration of plugin ai-proxy-multi err: duplicate instance name 'a' at instances[1] and instances[2]",
  ],
  [
    'filter_func',
    'routes',
    { uri: '/i', upstream, filter_func: 'function(vars) return true end' },
    'filter_func is not supported',
  ],
  ['script', 'routes', { uri: '/i', script: 'local _M = {} return _M' }, 'script is not supported'],
  [
    '25 script with plugins',
    'routes',
    { uri: '/i', plugins: {}, script: 'local _M = {} return _M' },
    "invalid configuration: value wasn't supposed to match schema",
  ],
  ['service script', 'services', { script: 'local _M = {} return _M' }, 'script is not supported'],
  [
    'service inline upstream',
    'services',
    { upstream: { ...upstream, type: 'chash', hash_on: 'cookie' } },
    'missing key',
  ],
  [
    '39 consumer without username',
    'consumers',
    { id: 'jack' },
    'invalid configuration: property "username" is required',
  ],
  [
    'consumer key-auth needs key',
    'consumers',
    { username: 'jack', plugins: { 'key-auth': {} } },
    'invalid plugins configuration: failed to check the configuration of plugin key-auth err: property "key" is required',
  ],
  [
    'consumer unknown plugin',
    'consumers',
    { username: 'jack', plugins: { x: {} } },
    'invalid plugins configuration: unknown plugin [x]',
  ],
  [
    'credential unknown plugin',
    'credentials',
    { plugins: { x: {} } },
    'invalid plugins configuration: unknown plugin [x]',
  ],
  [
    '45 credential non-auth plugin',
    'credentials',
    { plugins: { 'ai-proxy-multi': { instances: [instance] } } },
    'only supports auth type plugins in consumer credential',
  ],
  [
    '45 credential two plugins',
    'credentials',
    { plugins: { 'key-auth': { key: 'a' }, 'ai-proxy-multi': {} } },
    'invalid configuration: property "plugins" validation failed: expect object to have at most 1 properties',
  ],
];

describe('checkResource (admin mode): rejections', () => {
  for (const [what, kind, body, message] of REJECTED) {
    it(what, () => assert.deepEqual(checkResource(kind, body, { mode: 'admin' }), { ok: false, message }));
  }
});

describe('checkResource: accepted values', () => {
  it('defaults plugin confs with their own schema, consumer schema on consumers', () => {
    const route = checkResource('routes', { uri: '/i', plugins: { 'key-auth': {} } }, { mode: 'admin' });
    assert.ok(route.ok);
    assert.deepEqual(route.value.plugins, {
      'key-auth': { header: 'apikey', query: 'apikey', realm: 'key', hide_credentials: false },
    });
    const consumer = checkResource(
      'consumers',
      { username: 'jack', plugins: { 'key-auth': { key: 'auth-one' } } },
      { mode: 'admin' },
    );
    assert.ok(consumer.ok);
    assert.deepEqual(consumer.value, { username: 'jack', plugins: { 'key-auth': { key: 'auth-one' } } });
  });

  it('never mutates the body', () => {
    const body = { uri: '/i', plugins: { 'key-auth': {} }, upstream: { nodes: [{ host: '::1', weight: 1 }] } };
    const before = JSON.stringify(body);
    checkResource('routes', body, { mode: 'data-plane' });
    assert.equal(JSON.stringify(body), before);
  });

  it('accepts 26 chash on consumer without key, and credential ids in both forms', () => {
    assert.equal(
      checkResource(
        'routes',
        { uri: '/i', upstream: { ...upstream, type: 'chash', hash_on: 'consumer' } },
        { mode: 'admin' },
      ).ok,
      true,
    );
    for (const id of ['credential_a', 'jack/credentials/credential_a']) {
      assert.equal(
        checkResource('credentials', { id, plugins: { 'key-auth': { key: 'k' } } }, { mode: 'admin' }).ok,
        true,
      );
    }
  });

  it('accepts a route routing on post_arg.model (vars compile)', () => {
    const result = checkResource(
      'routes',
      { uri: '/v1/chat/completions', upstream, vars: [['post_arg.model', '==', 'gpt-4']] },
      { mode: 'admin' },
    );
    assert.equal(result.ok, true);
  });

  it('accepts an invalid conf of a disabled plugin, with a warning', () => {
    const result = checkResource(
      'routes',
      { uri: '/i', plugins: { 'key-auth': { header: 1, _meta: { disable: true } } } },
      { mode: 'admin' },
    );
    assert.ok(result.ok);
    assert.deepEqual(result.value.plugins, { 'key-auth': { header: 1, _meta: { disable: true } } });
    assert.equal(result.warnings?.length, 1);
  });
});

describe('checkResource (data-plane mode)', () => {
  it('skips unknown plugins and reports them', () => {
    const result = checkResource(
      'routes',
      { uri: '/i', plugins: { 'limit-count': { count: 1 }, 'key-auth': {} } },
      { mode: 'data-plane' },
    );
    assert.ok(result.ok);
    assert.deepEqual(result.skippedPlugins, ['limit-count']);
    assert.deepEqual(Object.keys(result.value.plugins as object), ['key-auth']);
  });

  it('brackets bare IPv6 node hosts instead of refusing them', () => {
    const result = checkResource(
      'upstreams',
      { nodes: [{ host: '::1', port: 80, weight: 1 }] },
      { mode: 'data-plane' },
    );
    assert.ok(result.ok);
    assert.deepEqual(result.value.nodes, [{ host: '[::1]', port: 80, weight: 1, priority: 0 }]);
  });

  it('still refuses schema errors', () => {
    assert.deepEqual(checkResource('routes', { uri: '/i' }, { mode: 'data-plane' }).ok, false);
  });
});

describe('checkResourceShape / checkResourcePlugins halves', () => {
  it('shape stops before plugins; plugins runs on the shape value', () => {
    const body = { uri: '/i', upstream_id: 99, plugins: { 'no-such-plugin': {} } };
    const shape = checkResourceShape('routes', body, { mode: 'admin' });
    assert.ok(shape.ok);
    assert.equal(shape.value.priority, 0);
    assert.deepEqual(checkResourcePlugins('routes', shape.value, { mode: 'admin' }), {
      ok: false,
      message: 'unknown plugin [no-such-plugin]',
    });
  });
});
