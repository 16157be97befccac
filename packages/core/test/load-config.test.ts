import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ensureAdminKeys,
  isSwitchboardError,
  loadConfig,
  planesOf,
  resolveConfigProvider,
  resolveNodeListen,
  resolveWorkerCount,
} from '../src/index.js';

describe('loadConfig', () => {
  it('applies APISIX defaults to an empty file', () => {
    const { config, warnings } = loadConfig({ text: '' });
    assert.deepEqual(warnings, []);
    assert.equal(config.deployment.role, 'traditional');
    assert.deepEqual(config.deployment.admin.admin_listen, { ip: '127.0.0.1', port: 9180 });
    assert.deepEqual(config.deployment.admin.allow_admin, ['127.0.0.0/24']);
    assert.deepEqual(resolveNodeListen(config), [{ ip: '0.0.0.0', port: 9080 }]);
    assert.deepEqual(config.apisix.data_encryption.keyring, ['qeddd145sfvddff3', 'edd1c9f0985e76a2']);
    assert.equal(resolveConfigProvider(config), 'embedded');
    assert.deepEqual(planesOf(config), { admin: true, proxy: true });
    assert.ok(Object.isFrozen(config.deployment.admin));
  });

  it('reads an APISIX control-plane file and defaults the etcd block', () => {
    const text = `
deployment:
  role: control_plane
  role_control_plane:
    config_provider: etcd
  admin:
    admin_key:
      - name: admin
        key: abc
        role: admin
  etcd:
    host: ["http://127.0.0.1:2379"]
`;
    const { config } = loadConfig({ text });
    assert.equal(config.deployment.etcd?.prefix, '/apisix');
    assert.equal(config.deployment.etcd?.timeout, 30);
    assert.equal(resolveConfigProvider(config), 'etcd');
    assert.deepEqual(planesOf(config), { admin: true, proxy: false });
  });

  it('accepts node_listen as a port, a list of ports and a list of {ip, port}', () => {
    const cases: [string, unknown][] = [
      ['apisix: {node_listen: 9081}', [{ ip: '0.0.0.0', port: 9081 }]],
      [
        'apisix: {node_listen: [9081, 9082]}',
        [
          { ip: '0.0.0.0', port: 9081 },
          { ip: '0.0.0.0', port: 9082 },
        ],
      ],
      ['apisix: {node_listen: [{ip: 127.0.0.1, port: 9083}]}', [{ ip: '127.0.0.1', port: 9083 }]],
    ];
    for (const [text, expected] of cases)
      assert.deepEqual(resolveNodeListen(loadConfig({ text }).config), expected, text);
  });

  it('resolves worker_processes auto to the core count', () => {
    assert.equal(resolveWorkerCount(loadConfig({ text: '' }).config, 6), 6);
    assert.equal(resolveWorkerCount(loadConfig({ text: 'nginx_config: {worker_processes: 3}' }).config, 6), 3);
  });

  it('stops on invalid values with a message that names the key', () => {
    const cases: [string, RegExp][] = [
      ['deployment: {role: primary}', /deployment\.role: .*"primary"/],
      ['apisix: {node_listen: [70000]}', /apisix\.node_listen/],
      ['nginx_config: {worker_processes: many}', /nginx_config\.worker_processes/],
      ['deployment: {role: data_plane}', /deployment\.etcd: role data_plane needs an etcd/],
      ['deployment: {etcd: {host: ["127.0.0.1:2379"]}}', /deployment\.etcd\.host\.0/],
      ['deployment: {admin: {admin_key: [{name: a, key: x, role: root}]}}', /deployment\.admin\.admin_key\.0\.role/],
      ['apisix: [1, 2]', /top level must be a mapping|apisix/],
      ['apisix: {node_listen: [9080\n', /not valid YAML/],
    ];
    for (const [text, pattern] of cases) {
      assert.throws(
        () => loadConfig({ text, source: 'test.yaml' }),
        (error) =>
          isSwitchboardError(error, 'SB_ERR_CONFIG_INVALID') &&
          pattern.test(error.message) &&
          error.message.includes('test.yaml'),
        text,
      );
    }
  });

  it('warns about unknown keys instead of failing', () => {
    const { warnings } = loadConfig({ text: 'apisix: {enable_ipv6: false}\nplugins: [key-auth]', source: 'c.yaml' });
    assert.deepEqual(warnings, [
      'c.yaml: unknown key apisix.enable_ipv6 is ignored',
      'c.yaml: unknown key plugins is ignored',
    ]);
  });

  // biome-ignore lint/suspicious/noTemplateCurlyInString: APISIX's ${{VAR}} syntax, not a template literal.
  it('substitutes ${{VAR}} and ${{VAR:=default}} like APISIX', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: config.yaml text with APISIX's ${{VAR}} syntax.
    const text = 'apisix: {node_listen: [${{PORT}}]}\ndeployment: {embedded: {data_dir: "${{DIR:=/tmp/sb}}"}}';
    const { config } = loadConfig({ text, env: { PORT: '9555' } });
    assert.deepEqual(resolveNodeListen(config), [{ ip: '0.0.0.0', port: 9555 }]);
    assert.equal(config.deployment.embedded.data_dir, '/tmp/sb');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: config.yaml text with APISIX's ${{VAR}} syntax.
    assert.throws(() => loadConfig({ text: 'x: ${{NOPE}}' }), /NOPE is referenced but not set/);
  });

  it('lets SWITCHBOARD_* variables override the file', () => {
    const { config } = loadConfig({
      text: 'deployment: {role: traditional}',
      env: {
        SWITCHBOARD_ROLE: 'data_plane',
        SWITCHBOARD_ETCD_HOST: 'http://10.0.0.1:2379, http://10.0.0.2:2379',
        SWITCHBOARD_NODE_LISTEN: '9001,127.0.0.1:9002',
        SWITCHBOARD_ADMIN_KEY: 'k',
        SWITCHBOARD_WORKER_PROCESSES: '2',
      },
    });
    assert.equal(config.deployment.role, 'data_plane');
    assert.deepEqual(config.deployment.etcd?.host, ['http://10.0.0.1:2379', 'http://10.0.0.2:2379']);
    assert.deepEqual(resolveNodeListen(config), [
      { ip: '0.0.0.0', port: 9001 },
      { ip: '127.0.0.1', port: 9002 },
    ]);
    assert.deepEqual(config.deployment.admin.admin_key, [{ name: 'admin', key: 'k', role: 'admin' }]);
    assert.equal(config.nginx_config.worker_processes, 2);
  });
});

describe('ensureAdminKeys', () => {
  it('generates a 32-letter key once, persists it and reuses it', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sb-keys-'));
    const keys = [{ name: 'admin', key: '', role: 'admin' as const }];
    const first = await ensureAdminKeys({ keys, dataDir });
    assert.deepEqual(first.generated, ['admin']);
    assert.match(first.keys[0]?.key ?? '', /^[A-Za-z]{32}$/);
    const second = await ensureAdminKeys({ keys, dataDir });
    assert.deepEqual(second.generated, []);
    assert.deepEqual(second.restored, ['admin']);
    assert.equal(second.keys[0]?.key, first.keys[0]?.key);
    assert.match(await readFile(first.file, 'utf8'), new RegExp(first.keys[0]?.key ?? 'x'));
  });

  it('keeps configured keys untouched', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'sb-keys-'));
    const keys = [{ name: 'admin', key: 'given', role: 'admin' as const }];
    assert.deepEqual((await ensureAdminKeys({ keys, dataDir })).keys, keys);
  });
});
