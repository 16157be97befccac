import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAiProxyRules } from '../src/plugins/ai-proxy-multi-rules.js';
import { findPlugin, PLUGIN_CATALOG, pluginJsonSchema } from '../src/plugins/catalog.js';
import { checkResource } from '../src/resources/check.js';
import { AiProxySchema } from '../src/schema/plugins/ai-proxy.js';
import { AiProxyMultiSchema } from '../src/schema/plugins/ai-proxy-multi.js';
import { compileChecker } from '../src/validation/checker.js';

const openai = { name: 'openai-1', provider: 'openai', weight: 1, auth: { header: { Authorization: 'Bearer k' } } };
const PREFIX = 'failed to check the configuration of plugin ai-proxy-multi err: ';

/** Runs the whole admin check of a route holding this ai-proxy-multi conf. */
function checkConf(conf: Record<string, unknown>) {
  return checkResource(
    'routes',
    { uri: '/v1/chat/completions', plugins: { 'ai-proxy-multi': conf } },
    { mode: 'admin' },
  );
}

function defaultedConf(conf: Record<string, unknown>): Record<string, unknown> {
  const result = checkConf(conf);
  assert.ok(result.ok, result.ok ? '' : result.message);
  return (result.value.plugins as Record<string, Record<string, unknown>>)['ai-proxy-multi'] ?? {};
}

/** [what, conf, message after the plugin prefix] — ai-proxy-multi.md §1.11 and §10.1. */
const REJECTED: ReadonlyArray<readonly [string, Record<string, unknown>, string]> = [
  [
    'unknown provider',
    { instances: [{ ...openai, provider: 'some-unique' }] },
    'property "instances" validation failed: failed to validate item 1: property "provider" validation failed: matches none of the enum values',
  ],
  ['no instances', { instances: [] }, 'property "instances" validation failed: expect array to have at least 1 items'],
  [
    'weight required',
    { instances: [{ name: 'a', provider: 'openai', auth: {} }] },
    'property "instances" validation failed: failed to validate item 1: property "weight" is required',
  ],
  [
    'auth names are exact',
    { instances: [{ ...openai, auth: { 'x-header': {} } }] },
    'property "instances" validation failed: failed to validate item 1: property "auth" validation failed: additional properties forbidden, found x-header',
  ],
  [
    'fallback status below 400',
    { instances: [openai], fallback_http_statuses: [200] },
    'property "fallback_http_statuses" validation failed: failed to validate item 1: expected 200 to be at least 400',
  ],
  [
    'max_stream_duration_ms 0',
    { instances: [openai], max_stream_duration_ms: 0 },
    'property "max_stream_duration_ms" validation failed: expected 0 to be at least 1',
  ],
  [
    'fallback_strategy form',
    { instances: [openai], fallback_strategy: 'rate_limiting' },
    'property "fallback_strategy" validation failed: object matches none of the required',
  ],
  [
    'llm_options closed',
    { instances: [{ ...openai, override: { llm_options: { temperature: 1 } } }] },
    'property "instances" validation failed: failed to validate item 1: property "override" validation failed: property "llm_options" validation failed: additional properties forbidden, found temperature',
  ],
  [
    'request_body keyed by protocol',
    { instances: [{ ...openai, override: { request_body: { 'openai-chatx': {} } } }] },
    'property "instances" validation failed: failed to validate item 1: property "override" validation failed: property "request_body" validation failed: additional properties forbidden, found openai-chatx',
  ],
  [
    'checks needs active',
    { instances: [{ ...openai, checks: {} }] },
    'property "instances" validation failed: failed to validate item 1: property "checks" validation failed: property "active" is required',
  ],
  [
    'duplicate name',
    { instances: [openai, { ...openai, name: 'other' }, openai] },
    "duplicate instance name 'openai-1' at instances[1] and instances[3]",
  ],
  [
    'invalid endpoint',
    { instances: [{ ...openai, override: { endpoint: 'http//127.0.0.1:1980' } }] },
    'invalid endpoint',
  ],
  [
    'endpoint without host',
    { instances: [{ ...openai, override: { endpoint: 'https://:8080/x' } }] },
    'invalid endpoint',
  ],
  [
    'vertex-ai requirements',
    { instances: [{ ...openai, provider: 'vertex-ai', provider_conf: { project_id: 'p' } }] },
    "instance 'openai-1': vertex-ai requires either provider_conf (project_id + region) or override.endpoint",
  ],
  [
    'bedrock region',
    { instances: [{ ...openai, provider: 'bedrock' }] },
    "instance 'openai-1': bedrock requires provider_conf.region",
  ],
  [
    'bedrock aws auth',
    { instances: [{ ...openai, provider: 'bedrock', provider_conf: { region: 'us-east-1' } }] },
    "instance 'openai-1': bedrock requires auth.aws",
  ],
  [
    'chash key',
    { instances: [openai], balancer: { algorithm: 'chash' } },
    'must configure `hash_key` when balancer `hash_on` is not set to cookie',
  ],
  [
    'chash key format',
    { instances: [openai], balancer: { algorithm: 'chash', hash_on: 'header', key: 'a b' } },
    'invalid configuration: failed to match pattern "^[a-zA-Z0-9-_]+$" with "a b"',
  ],
  [
    'semantic needs embeddings',
    { instances: [openai], balancer: { algorithm: 'semantic' } },
    'must configure `semantic_opts.embeddings` when balancer algorithm is semantic',
  ],
  [
    'semantic needs examples',
    {
      instances: [openai],
      balancer: { algorithm: 'semantic' },
      semantic_opts: { embeddings: { provider: 'openai', model: 'm', auth: {} } },
    },
    "instance 'openai-1': must configure non-empty `examples` for the semantic algorithm",
  ],
  [
    'semantic fallback must exist',
    {
      instances: [{ ...openai, examples: ['hi'] }],
      balancer: { algorithm: 'semantic' },
      semantic_opts: { fallback: 'nope', embeddings: { provider: 'openai', model: 'm', auth: {} } },
    },
    "`semantic_opts.fallback` names unknown instance 'nope'",
  ],
];

describe('ai-proxy-multi: schema and §1.11 rules', () => {
  for (const [what, conf, message] of REJECTED) {
    it(what, () => assert.deepEqual(checkConf(conf), { ok: false, message: PREFIX + message }));
  }

  it("service_account_json must parse (the parser message is the runtime's own)", () => {
    const sa = {
      instances: [
        {
          ...openai,
          provider: 'vertex-ai',
          override: { endpoint: 'https://x.com' },
          auth: { gcp: { service_account_json: '{' } },
        },
      ],
    };
    const result = checkConf(sa);
    assert.ok(!result.ok);
    assert.match(
      result.message,
      /^failed to check the configuration of plugin ai-proxy-multi err: invalid gcp service_account_json: \S/,
    );
  });

  it('accepts the minimal config and injects the §1.1 defaults', () => {
    const conf = defaultedConf({ instances: [openai] });
    assert.deepEqual(conf, {
      instances: [{ ...openai, priority: 0 }],
      balancer: { algorithm: 'roundrobin', hash_on: 'vars' },
      timeout: 30000,
      max_req_body_size: 67108864,
      keepalive: true,
      keepalive_timeout: 60000,
      keepalive_pool: 30,
      streaming_flush_interval_ms: 10,
      ssl_verify: true,
    });
  });

  it('B1: a balancer without algorithm means roundrobin', () => {
    const conf = defaultedConf({ instances: [openai], balancer: { hash_on: 'header' } });
    assert.deepEqual(conf.balancer, { algorithm: 'roundrobin', hash_on: 'header' });
  });

  it('B2: a bare checks.active still probes every second', () => {
    const conf = defaultedConf({ instances: [{ ...openai, checks: { active: { http_path: '/health' } } }] });
    const [instance] = conf.instances as Array<{ checks: { active: Record<string, unknown> } }>;
    assert.deepEqual(instance?.checks.active, {
      http_path: '/health',
      timeout: 1,
      concurrency: 10,
      http_method: 'GET',
      http_req_body: '',
      https_verify_certificate: true,
      healthy: { interval: 1, http_statuses: [200, 302], successes: 2 },
      unhealthy: {
        interval: 1,
        http_statuses: [429, 404, 500, 501, 502, 503, 504, 505],
        http_failures: 5,
        tcp_failures: 2,
        timeouts: 3,
      },
    });
    assert.equal('type' in (instance?.checks.active ?? {}), false, 'probe type is left to the endpoint scheme');
  });

  it('accepts full configs: fallback, overrides, secret-reference service accounts, chash on consumer', () => {
    const accepted = [
      {
        instances: [openai],
        fallback_strategy: ['rate_limiting', 'http_429'],
        fallback_http_statuses: [401, 402],
        max_retries: 0,
      },
      { instances: [openai], fallback_strategy: 'instance_health_and_rate_limiting', retry_on_failure_within_ms: 100 },
      {
        instances: [
          {
            ...openai,
            priority: 1,
            override: {
              endpoint: 'http://127.0.0.1:1980/random?x=1',
              llm_options: { max_tokens: 5 },
              request_body: { 'openai-chat': { temperature: 0 } },
            },
          },
          {
            ...openai,
            name: 'vertex',
            provider: 'vertex-ai',
            weight: 0,
            auth: { gcp: { service_account_json: '$env://GCP_SA' } },
            provider_conf: { project_id: 'p', region: 'us-central1' },
          },
        ],
        balancer: { algorithm: 'chash', hash_on: 'consumer' },
        logging: { summaries: true },
      },
    ];
    for (const conf of accepted) assert.equal(checkConf(conf).ok, true, JSON.stringify(conf));
  });
});

describe('ai-proxy (single upstream)', () => {
  const check = compileChecker(AiProxySchema);

  it('shares the field groups: provider and auth required, defaults applied', () => {
    assert.deepEqual(check({ auth: {} }), { ok: false, message: 'property "provider" is required' });
    const result = check({ provider: 'openai', auth: {}, override: { endpoint: 'x' } });
    assert.ok(result.ok);
    assert.equal(result.value.timeout, 30000);
  });

  it('has no endpoint check and no instance prefix (§1.11)', () => {
    assert.equal(checkAiProxyRules({ provider: 'openai', auth: {}, override: { endpoint: 'x' } }), undefined);
    assert.equal(checkAiProxyRules({ provider: 'bedrock', auth: {} }), 'bedrock requires provider_conf.region');
  });
});

describe('plugin catalog', () => {
  it('lists key-auth, ai-proxy-multi, ai-proxy and ai-rate-limiting by priority descending', () => {
    assert.deepEqual(
      PLUGIN_CATALOG.map(({ name, priority, type }) => [name, priority, type]),
      [
        ['key-auth', 2500, 'auth'],
        ['ai-proxy-multi', 1041, 'other'],
        ['ai-proxy', 1040, 'other'],
        ['ai-rate-limiting', 1030, 'other'],
      ],
    );
    assert.deepEqual(findPlugin('key-auth')?.consumerEncryptFields, ['key']);
    assert.equal(findPlugin('key-auth')?.uniqueAttribute, 'key');
    assert.deepEqual(findPlugin('ai-proxy-multi')?.encryptFields, [
      'instances.auth.header',
      'instances.auth.query',
      'instances.auth.gcp.service_account_json',
      'instances.auth.aws.secret_access_key',
      'instances.auth.aws.session_token',
      'semantic_opts.embeddings.auth.header',
      'semantic_opts.embeddings.auth.query',
    ]);
  });

  it('serves plain JSON Schemas', () => {
    assert.deepEqual(pluginJsonSchema('key-auth', { consumer: true }), {
      type: 'object',
      properties: { key: { type: 'string' } },
      required: ['key'],
    });
    const multi = pluginJsonSchema('ai-proxy-multi');
    assert.deepEqual(multi?.required, ['instances']);
    assert.equal(Object.getOwnPropertySymbols(multi ?? {}).length, 0);
    assert.ok((multi?.properties as Record<string, unknown> | undefined)?._meta);
    assert.equal(pluginJsonSchema('ai-proxy-multi', { consumer: true }), undefined);
    assert.equal(pluginJsonSchema('nope'), undefined);
  });

  it('uses the same schema object the checker compiles', () => {
    assert.equal(findPlugin('ai-proxy-multi')?.schema, AiProxyMultiSchema);
  });
});
