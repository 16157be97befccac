import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import type { StoredItem } from '@switchboard/core';
import { createConfigState } from '../src/config/config-state.js';
import { createRuntimePluginRegistry } from '../src/plugins/registry.js';
import { normalizeRequestPath } from '../src/router/normalize-path.js';
import { RequestVars } from '../src/router/request-vars.js';
import { NEEDS_BODY } from '../src/router/verdict.js';
import { createDispatcherRegistry } from '../src/upstream/dispatchers.js';
import { captureLogger, defaultConfig } from './support/harness.js';

const UPSTREAM = { nodes: { '127.0.0.1:1980': 1 } };

/** Routes and services loaded for every case; keys decide insertion order (admin-api.md §6.2). */
const RESOURCES: Record<string, Record<string, unknown>> = {
  '/apisix/routes/exact-ab': { uri: '/a/b', upstream: UPSTREAM },
  '/apisix/routes/prefix-a': { uri: '/a/*', priority: 10, upstream: UPSTREAM },
  '/apisix/routes/prefix-abc': { uri: '/a/b/c/*', upstream: UPSTREAM },
  '/apisix/routes/prefix-foo': { uri: '/foo*', upstream: UPSTREAM },
  '/apisix/routes/prefix-bar-slash': { uri: '/bar/*', upstream: UPSTREAM },
  '/apisix/routes/prio-low': { uri: '/p', priority: 1, upstream: UPSTREAM },
  '/apisix/routes/prio-high': { uri: '/p', priority: 5, upstream: UPSTREAM },
  '/apisix/routes/10': { uri: '/order', upstream: UPSTREAM },
  '/apisix/routes/2': { uri: '/order', upstream: UPSTREAM },
  '/apisix/routes/long-prefix': { uri: '/l/*x', upstream: UPSTREAM },
  '/apisix/routes/short-prefix': { uri: '/l/*', upstream: UPSTREAM },
  '/apisix/routes/regex-middle': { uri: '/m/*/end', upstream: UPSTREAM },
  '/apisix/routes/host-exact': { uri: '/h', host: 'api.example.com', upstream: UPSTREAM },
  '/apisix/routes/host-wild': { uri: '/h', hosts: ['*.example.com'], upstream: UPSTREAM },
  '/apisix/routes/host-wild-long': { uri: '/h', hosts: ['*.b.example.com'], upstream: UPSTREAM },
  '/apisix/routes/host-any-post': { uri: '/h', hosts: ['post.example.com'], methods: ['POST'], upstream: UPSTREAM },
  '/apisix/routes/hostless': { uri: '/h', priority: 100, upstream: UPSTREAM },
  '/apisix/routes/methods': { uri: '/m-only', methods: ['PUT', 'DELETE'], upstream: UPSTREAM },
  '/apisix/routes/remote-v4': { uri: '/ip', remote_addrs: ['10.0.0.0/8'], upstream: UPSTREAM },
  '/apisix/routes/remote-v6': { uri: '/ip', remote_addr: '2001:db8::/32', upstream: UPSTREAM },
  '/apisix/routes/vars-arg': { uri: '/v', vars: [['arg_env', '==', 'prod']], upstream: UPSTREAM },
  '/apisix/routes/vars-header': { uri: '/v', vars: [['http_x_team', '==', 'ml']], upstream: UPSTREAM },
  '/apisix/routes/vars-cookie': { uri: '/v', vars: [['cookie_tier', '==', 'gold']], upstream: UPSTREAM },
  '/apisix/routes/model-gpt4': { uri: '/chat', vars: [['post_arg.model', '==', 'gpt-4']], upstream: UPSTREAM },
  '/apisix/routes/model-any': { uri: '/chat', priority: -1, upstream: UPSTREAM },
  '/apisix/routes/content-type': {
    uri: '/content',
    vars: [['post_arg.messages[*].role', 'has', 'system']],
    upstream: UPSTREAM,
  },
  '/apisix/routes/disabled': { uri: '/off', status: 0, upstream: UPSTREAM },
  '/apisix/routes/param-literal': { uri: '/user/:id', upstream: UPSTREAM },
  '/apisix/routes/via-service': { uri: '/svc', service_id: 's1' },
  '/apisix/routes/via-service-own-host': { uri: '/svc', host: 'own.example.com', service_id: 's1' },
  '/apisix/services/s1': { hosts: ['svc.example.com'], upstream: UPSTREAM },
};

interface RequestSpec {
  readonly path: string;
  readonly method?: string;
  readonly host?: string;
  readonly remote?: string;
  readonly headers?: Record<string, string>;
  readonly json?: unknown;
}

/** [what, request, the route id that must answer (undefined = 404)] */
const CASES: readonly (readonly [string, RequestSpec, string | undefined])[] = [
  ['an exact path beats a prefix of higher priority', { path: '/a/b' }, 'exact-ab'],
  ['a prefix matches below it', { path: '/a/x/y' }, 'prefix-a'],
  ['the longest prefix is tried first', { path: '/a/b/c/d' }, 'prefix-abc'],
  ['`/foo*` matches the bare prefix', { path: '/foo' }, 'prefix-foo'],
  ['`/foo*` matches a longer word', { path: '/foobar' }, 'prefix-foo'],
  ['`/bar/*` does not match `/bar`', { path: '/bar' }, undefined],
  ['`/bar/*` matches `/bar/`', { path: '/bar/' }, 'prefix-bar-slash'],
  ['the same path orders by priority, descending', { path: '/p' }, 'prio-high'],
  ['equal priority: etcd key order (`10` sorts before `2`)', { path: '/order' }, '10'],
  ['the same prefix key: the longer original path first', { path: '/l/zz' }, 'long-prefix'],
  ['a `*` in the middle must match the whole path', { path: '/m/x/y/end' }, 'regex-middle'],
  ['a `*` in the middle does not match another tail', { path: '/m/x/other' }, undefined],
  ['an exact host beats wildcards and host-less routes', { path: '/h', host: 'api.example.com' }, 'host-exact'],
  ['hosts compare case-insensitively, without the port', { path: '/h', host: 'API.Example.COM:9080' }, 'host-exact'],
  ['a wildcard host matches a subdomain', { path: '/h', host: 'x.example.com' }, 'host-wild'],
  ['the longest wildcard suffix wins', { path: '/h', host: 'x.b.example.com' }, 'host-wild-long'],
  ['`*.example.com` does not match `example.com`', { path: '/h', host: 'example.com' }, 'hostless'],
  [
    'a host whose routes all fail falls through to shorter wildcards',
    { path: '/h', host: 'post.example.com' },
    'host-wild',
  ],
  ['the method filter passes a listed method', { path: '/m-only', method: 'DELETE' }, 'methods'],
  ['the method filter refuses others', { path: '/m-only', method: 'GET' }, undefined],
  ['remote_addrs matches an IPv4 CIDR', { path: '/ip', remote: '10.1.2.3' }, 'remote-v4'],
  ['remote_addrs matches an IPv4-mapped client', { path: '/ip', remote: '::ffff:10.9.9.9' }, 'remote-v4'],
  ['remote_addr matches an IPv6 CIDR', { path: '/ip', remote: '2001:db8::1' }, 'remote-v6'],
  ['remote_addrs refuses other clients', { path: '/ip', remote: '192.168.1.1' }, undefined],
  ['vars on a query arg', { path: '/v?env=prod' }, 'vars-arg'],
  ['vars on a header', { path: '/v', headers: { 'x-team': 'ml' } }, 'vars-header'],
  ['vars on a cookie', { path: '/v', headers: { cookie: 'a=1; tier=gold' } }, 'vars-cookie'],
  ['vars that do not hold', { path: '/v?env=dev' }, undefined],
  [
    'post_arg.model selects a route from the JSON body',
    { path: '/chat', method: 'POST', json: { model: 'gpt-4' } },
    'model-gpt4',
  ],
  [
    'another model falls to the lower-priority route',
    { path: '/chat', method: 'POST', json: { model: 'gpt-3.5' } },
    'model-any',
  ],
  [
    'post_arg with [*] and has',
    { path: '/content', method: 'POST', json: { messages: [{ role: 'system' }, { role: 'user' }] } },
    'content-type',
  ],
  ['a disabled route (status 0) is left out', { path: '/off' }, undefined],
  ['`:id` is literal in the default router', { path: '/user/:id' }, 'param-literal'],
  ['`:id` is not a parameter', { path: '/user/42' }, undefined],
  ['a route without hosts uses its service hosts', { path: '/svc', host: 'svc.example.com' }, 'via-service'],
  ['…and does not match other hosts', { path: '/svc', host: 'other.example.com' }, undefined],
  ['a route host overrides the service hosts', { path: '/svc', host: 'own.example.com' }, 'via-service-own-host'],
  ['the path is normalised before matching', { path: '/a//b/./c/../../b' }, 'exact-ab'],
  ['percent-encoded paths are decoded', { path: '/%61/b' }, 'exact-ab'],
  ['nothing matches', { path: '/nowhere' }, undefined],
];

function fakeRequest(spec: RequestSpec): IncomingMessage {
  const headers: Record<string, string> = { host: spec.host ?? 'gateway.local', ...spec.headers };
  if (spec.json !== undefined) headers['content-type'] = 'application/json';
  return {
    method: spec.method ?? 'GET',
    url: spec.path,
    headers,
    socket: {
      remoteAddress: spec.remote ?? '127.0.0.1',
      remotePort: 40000,
      localAddress: '127.0.0.1',
      localPort: 9080,
    },
  } as unknown as IncomingMessage;
}

function loadState() {
  const dispatchers = createDispatcherRegistry();
  const log = captureLogger();
  const state = createConfigState({
    prefix: '/apisix',
    logger: log.logger,
    registry: createRuntimePluginRegistry({ random: () => 0, now: () => 0 }),
    dispatchers,
    random: () => 0,
    dataEncryption: defaultConfig().apisix.data_encryption,
  });
  const items: StoredItem[] = Object.entries(RESOURCES).map(([key, value], index) => ({
    key,
    value: JSON.stringify(value),
    createRevision: index + 1,
    modRevision: index + 1,
  }));
  state.listener.onSnapshot(items, items.length);
  return { state, log, dispatchers };
}

function matchedRouteId(state: ReturnType<typeof loadState>['state'], spec: RequestSpec): string | undefined {
  const vars = new RequestVars(fakeRequest(spec), normalizeRequestPath(spec.path));
  const test = (candidate: { filter: (v: RequestVars) => unknown }) =>
    candidate.filter(vars) as boolean | typeof NEEDS_BODY;
  let matched = state.current().router.match(vars.path, vars, test);
  if (matched === NEEDS_BODY) {
    vars.setBody(Buffer.from(JSON.stringify(spec.json ?? null)));
    matched = state.current().router.match(vars.path, vars, test);
  }
  assert.notEqual(matched, NEEDS_BODY);
  return matched === undefined || matched === NEEDS_BODY ? undefined : matched.route.id;
}

describe('router: radixtree_host_uri semantics (admin-api.md §6.1–§6.4)', () => {
  const { state, log, dispatchers } = loadState();

  test('every resource of the table loaded', () => {
    assert.deepEqual(
      log.lines.filter((line) => line.level === 40).map((line) => line.key),
      [],
      'no item was refused',
    );
  });

  for (const [what, spec, expected] of CASES) {
    test(what, () => {
      assert.equal(matchedRouteId(state, spec), expected);
    });
  }

  test('a route needing the body asks for it only after cheaper filters pass', () => {
    const vars = new RequestVars(fakeRequest({ path: '/chat', method: 'POST', json: {} }), '/chat');
    assert.equal(
      state.current().router.match('/chat', vars, (candidate) => candidate.filter(vars)),
      NEEDS_BODY,
    );
    const getVars = new RequestVars(fakeRequest({ path: '/a/b' }), '/a/b');
    assert.notEqual(
      state.current().router.match('/a/b', getVars, (candidate) => candidate.filter(getVars)),
      NEEDS_BODY,
    );
  });

  test('cleanup', async () => {
    state.close();
    await dispatchers.close();
  });
});
