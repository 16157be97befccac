import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type TSchema, Type } from '@sinclair/typebox';
import { ConsumerSchema } from '../src/schema/consumer.js';
import { CredentialSchema } from '../src/schema/credential.js';
import { ExclusiveUnion, IntegerEnum, StringEnum } from '../src/schema/keywords.js';
import { RouteSchema } from '../src/schema/route.js';
import { UpstreamSchema } from '../src/schema/upstream.js';
import { compileChecker, describeSchemaError } from '../src/validation/checker.js';

const upstream = { nodes: { '127.0.0.1:8080': 1 }, type: 'roundrobin' };

/** [what, schema, value, APISIX message]; messages from admin-api.md §1.6 and the §10 pinned cases. */
const FAILURES: ReadonlyArray<readonly [string, TSchema, unknown, string]> = [
  [
    'wrong type, Lua names',
    Type.Object({ a: Type.String() }),
    { a: { b: 1 } },
    'property "a" validation failed: wrong type: expected string, got table',
  ],
  ['wrong type number', Type.String(), 3, 'wrong type: expected string, got number'],
  ['wrong type boolean', Type.Integer(), true, 'wrong type: expected integer, got boolean'],
  ['integer vs float', Type.Integer(), 1.5, 'wrong type: expected integer, got number'],
  ['null is userdata', Type.String(), null, 'wrong type: expected string, got userdata'],
  ['array is table', Type.Object({}), [1], 'wrong type: expected object, got table'],
  ['required', Type.Object({ a: Type.String() }), {}, 'property "a" is required'],
  [
    'nested path',
    Type.Object({ a: Type.Object({ b: Type.Integer() }) }),
    { a: { b: 'x' } },
    'property "a" validation failed: property "b" validation failed: wrong type: expected integer, got string',
  ],
  ['enum', StringEnum(['a', 'b']), 'c', 'matches none of the enum values'],
  ['enum wrong type first', StringEnum(['a', 'b']), 1, 'wrong type: expected string, got number'],
  ['integer enum', IntegerEnum([1, 0]), 2, 'matches none of the enum values'],
  [
    'items are 1-based',
    Type.Array(Type.Integer()),
    [1, 2, 'x'],
    'failed to validate item 3: wrong type: expected integer, got string',
  ],
  ['minItems', Type.Array(Type.String(), { minItems: 1 }), [], 'expect array to have at least 1 items'],
  ['maxItems', Type.Array(Type.String(), { maxItems: 1 }), ['a', 'b'], 'expect array to have at most 1 items'],
  [
    'uniqueItems',
    Type.Array(Type.String(), { uniqueItems: true }),
    ['a', 'b', 'a'],
    'expected unique items but items 1 and 3 are equal',
  ],
  ['minLength', Type.String({ minLength: 3 }), 'ab', 'string too short, expected at least 3, got 2'],
  ['maxLength counts characters', Type.String({ maxLength: 2 }), 'äöü', 'string too long, expected at most 2, got 3'],
  ['pattern, Lua-quoted', Type.String({ pattern: '^\\d+$' }), 'a"b', 'failed to match pattern "^\\\\d+$" with "a\\"b"'],
  ['minimum', Type.Integer({ minimum: 400 }), 200, 'expected 200 to be at least 400'],
  ['maximum', Type.Integer({ maximum: 599 }), 600, 'expected 600 to be at most 599'],
  ['exclusiveMinimum', Type.Number({ exclusiveMinimum: 0 }), 0, 'expected 0 to be greater than 0'],
  ['exclusiveMaximum', Type.Number({ exclusiveMaximum: 1 }), 1.5, 'expected 1.5 to be smaller than 1'],
  [
    'additionalProperties',
    Type.Object({ a: Type.String() }, { additionalProperties: false }),
    { a: 'x', foo: 1 },
    'additional properties forbidden, found foo',
  ],
  [
    'additionalProperties schema',
    Type.Object({}, { additionalProperties: Type.String() }),
    { a: 1 },
    'failed to validate additional property a: wrong type: expected string, got number',
  ],
  [
    'maxProperties',
    Type.Record(Type.String(), Type.Unknown(), { maxProperties: 1 }),
    { a: 1, b: 2 },
    'expect object to have at most 1 properties',
  ],
  [
    'patternProperties',
    Type.Record(Type.String({ pattern: '.*' }), Type.String()),
    { env: {} },
    'failed to validate env (matching ".*"): wrong type: expected string, got table',
  ],
  ['anyOf', Type.Union([Type.String(), Type.Integer({ minimum: 1 })]), 0, 'object matches none of the required'],
  [
    'oneOf none',
    ExclusiveUnion([Type.String(), Type.Integer()]),
    true,
    'value should match only one schema, but matches none',
  ],
  ['const', Type.Literal('x'), 'y', 'failed to check const value'],
];

describe('compileChecker: APISIX jsonschema vocabulary', () => {
  for (const [what, schema, value, message] of FAILURES) {
    it(what, () => {
      assert.deepEqual(compileChecker(schema)(value), { ok: false, message });
      assert.equal(describeSchemaError(schema, value), message);
    });
  }
});

/** admin-api.md §10 pinned cases that depend on the schema alone (items 10–12, 16, 18, 20, 21, 25, 27, 39, 45). */
const PINNED: ReadonlyArray<readonly [string, TSchema, unknown, string]> = [
  [
    '10 bad method',
    RouteSchema,
    { uri: '/i', upstream, methods: ['invalid_method'] },
    'property "methods" validation failed: failed to validate item 1: matches none of the enum values',
  ],
  [
    '11 duplicate method',
    RouteSchema,
    { uri: '/i', upstream, methods: ['GET', 'GET'] },
    'property "methods" validation failed: expected unique items but items 1 and 2 are equal',
  ],
  [
    '12 service_id form',
    RouteSchema,
    { uri: '/i', service_id: '*invalid' },
    'property "service_id" validation failed: object matches none of the required',
  ],
  [
    '12 upstream_id form',
    RouteSchema,
    { uri: '/i', upstream_id: 'a b' },
    'property "upstream_id" validation failed: object matches none of the required',
  ],
  [
    '12 id 0',
    RouteSchema,
    { id: 0, uri: '/i', upstream },
    'property "id" validation failed: object matches none of the required',
  ],
  [
    '27 id *invalid',
    RouteSchema,
    { id: '*invalid', uri: '/i', upstream },
    'property "id" validation failed: object matches none of the required',
  ],
  [
    '16 host wildcard inside',
    RouteSchema,
    { uri: '/i', upstream, host: 'a.*.foo.com' },
    'property "host" validation failed: failed to match pattern "^\\\\*$|^\\\\*?[0-9a-zA-Z-._\\\\[\\\\]:]+$" with "a.*.foo.com"',
  ],
  [
    '18 remote_addr',
    RouteSchema,
    { uri: '/i', upstream, remote_addr: '127.0.0.33333' },
    'property "remote_addr" validation failed: object matches none of the required',
  ],
  [
    '20 uri and uris',
    RouteSchema,
    { uri: '/i', uris: ['/j'], upstream },
    'allOf 1 failed: value should match only one schema, but matches both schemas 1 and 2',
  ],
  [
    '20 neither uri nor uris',
    RouteSchema,
    { upstream },
    'allOf 1 failed: value should match only one schema, but matches none',
  ],
  [
    '20 empty uris',
    RouteSchema,
    { uris: [], upstream },
    'property "uris" validation failed: expect array to have at least 1 items',
  ],
  [
    '21 label value',
    RouteSchema,
    { uri: '/i', upstream, labels: { env: { a: 1 } } },
    'property "labels" validation failed: failed to validate env (matching ".*"): wrong type: expected string, got table',
  ],
  [
    '25 script with plugins',
    RouteSchema,
    { uri: '/i', plugins: {}, script: 'local _M = {} return _M' },
    "value wasn't supposed to match schema",
  ],
  [
    'route with only a uri',
    RouteSchema,
    { uri: '/i' },
    'object matches none of the required: ["plugins","uri"] or ["upstream","uri"] or ["upstream_id","uri"] or ["service_id","uri"] or ["plugins","uris"] or ["upstream","uris"] or ["upstream_id","uris"] or ["service_id","uris"] or ["script","uri"] or ["script","uris"]',
  ],
  ['unknown route field', RouteSchema, { uri: '/i', upstream, foo: 1 }, 'additional properties forbidden, found foo'],
  [
    'route timeout',
    RouteSchema,
    { uri: '/i', upstream, timeout: { connect: 1, send: 1 } },
    'property "timeout" validation failed: property "read" is required',
  ],
  [
    'upstream without nodes',
    RouteSchema,
    { uri: '/i', upstream: { type: 'roundrobin' } },
    'property "upstream" validation failed: value should match only one schema, but matches none',
  ],
  [
    'upstream with nodes and discovery',
    UpstreamSchema,
    { nodes: {}, service_name: 'a', discovery_type: 'dns' },
    'value should match only one schema, but matches both schemas 1 and 2',
  ],
  [
    'upstream tls dependency',
    UpstreamSchema,
    { nodes: {}, tls: { client_cert: 'c'.repeat(128) } },
    'property "tls" validation failed: failed to validate dependent schema for "client_cert": property "client_key" is required',
  ],
  ['39 consumer without username', ConsumerSchema, { id: 'jack' }, 'property "username" is required'],
  [
    'consumer username pattern',
    ConsumerSchema,
    { username: 'a b' },
    'property "username" validation failed: failed to match pattern "^[a-zA-Z0-9_\\\\-]+$" with "a b"',
  ],
  [
    '45 credential with two plugins',
    CredentialSchema,
    { plugins: { 'key-auth': { key: 'a' }, 'basic-auth': {} } },
    'property "plugins" validation failed: expect object to have at most 1 properties',
  ],
  [
    'credential id form',
    CredentialSchema,
    { id: 'a/b' },
    'property "id" validation failed: value should match only one schema, but matches none',
  ],
];

describe('resource schemas: pinned admin messages', () => {
  for (const [what, schema, value, message] of PINNED) {
    it(what, () => assert.deepEqual(compileChecker(schema)(value), { ok: false, message }));
  }
});

describe('resource schemas: accepted values', () => {
  const route = compileChecker(RouteSchema);
  const ACCEPTED: ReadonlyArray<readonly [string, unknown]> = [
    ['wildcard host', { uri: '/i', upstream, host: '*.foo.com' }],
    ['bare * host', { uri: '/i', upstream, host: '*' }],
    ['IPv4 CIDR', { uri: '/i', upstream, remote_addrs: ['10.0.0.0/8', '127.0.0.1'] }],
    ['IPv6 and IPv6 CIDR', { uri: '/i', upstream, remote_addrs: ['::1', 'fe80::/10', '::ffff:10.0.0.1'] }],
    ['integer id', { id: 1, uri: '/i', plugins: {} }],
    ['string id', { id: 'a-b-c-ABC_0123', uris: ['/a', '/b'], service_id: 'svc.1' }],
    ['array nodes', { uri: '/i', upstream: { nodes: [{ host: '127.0.0.1', port: 80, weight: 1 }] } }],
  ];
  for (const [what, value] of ACCEPTED) {
    it(what, () => assert.equal(route(value).ok, true));
  }

  it('returns a defaulted copy and never mutates the input', () => {
    const body = { uri: '/i', upstream: { nodes: [{ host: 'a', weight: 1 }] } };
    const frozen = JSON.stringify(body);
    const result = route(body);
    assert.equal(JSON.stringify(body), frozen);
    assert.ok(result.ok);
    assert.equal(result.value.priority, 0);
    assert.equal(result.value.status, 1);
    assert.equal(result.value.upstream?.type, 'roundrobin');
    assert.equal(result.value.upstream?.hash_on, 'vars');
    assert.equal(result.value.upstream?.pass_host, 'pass');
    assert.deepEqual(result.value.upstream?.nodes, [{ host: 'a', weight: 1, priority: 0 }]);
  });

  it('accepts a credential id in the data-plane form', () => {
    assert.equal(compileChecker(CredentialSchema)({ id: 'jack/credentials/cred-1' }).ok, true);
  });
});
