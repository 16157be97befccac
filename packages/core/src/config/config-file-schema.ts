import { type Static, Type } from '@sinclair/typebox';

/**
 * The APISIX-style `config.yaml` (docs/configuration.md). Property names are APISIX's own keys so a
 * migrating user keeps their file. The validated, defaulted and frozen object is what the CLI passes
 * down to the planes; nothing else reads the file or the environment.
 */
const ListenAddress = Type.Object(
  { ip: Type.String({ default: '0.0.0.0', minLength: 1 }), port: Type.Integer({ minimum: 1, maximum: 65535 }) },
  { additionalProperties: false },
);
export type ListenAddressConfig = Static<typeof ListenAddress>;

const Port = Type.Integer({ minimum: 1, maximum: 65535 });

export const AdminKeySchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    key: Type.String({ default: '' }),
    role: Type.Union([Type.Literal('admin'), Type.Literal('viewer')], { default: 'admin' }),
  },
  { additionalProperties: false },
);
export type AdminKey = Static<typeof AdminKeySchema>;

const ConfigProvider = Type.Union([Type.Literal('etcd'), Type.Literal('embedded')]);

export const ConfigFileSchema = Type.Object(
  {
    apisix: Type.Object(
      {
        node_listen: Type.Union([Port, Type.Array(Type.Union([Port, ListenAddress]), { minItems: 1 })], {
          default: [9080],
        }),
        enable_admin: Type.Optional(Type.Boolean()),
        enable_server_tokens: Type.Boolean({ default: true }),
        data_encryption: Type.Object(
          {
            enable_encrypt_fields: Type.Boolean({ default: true }),
            keyring: Type.Array(Type.String({ pattern: '^(.{16}|.{32})$' }), {
              default: ['qeddd145sfvddff3', 'edd1c9f0985e76a2'],
            }),
          },
          { default: {}, additionalProperties: false },
        ),
        status: Type.Object(
          {
            ip: Type.String({ default: '127.0.0.1' }),
            port: Type.Integer({ minimum: 0, maximum: 65535, default: 7085 }),
          },
          { default: {}, additionalProperties: false },
        ),
      },
      { default: {} },
    ),
    nginx_config: Type.Object(
      {
        worker_processes: Type.Union([Type.Literal('auto'), Type.Integer({ minimum: 0, maximum: 256 })], {
          default: 'auto',
        }),
        http: Type.Object({ access_log: Type.Optional(Type.String({ minLength: 1 })) }, { default: {} }),
      },
      { default: {} },
    ),
    deployment: Type.Object(
      {
        role: Type.Union([Type.Literal('traditional'), Type.Literal('control_plane'), Type.Literal('data_plane')], {
          default: 'traditional',
        }),
        role_traditional: Type.Object({ config_provider: Type.Optional(ConfigProvider) }, { default: {} }),
        role_control_plane: Type.Object(
          { config_provider: Type.Literal('etcd', { default: 'etcd' }) },
          { default: {} },
        ),
        role_data_plane: Type.Object({ config_provider: Type.Literal('etcd', { default: 'etcd' }) }, { default: {} }),
        admin: Type.Object(
          {
            admin_key_required: Type.Boolean({ default: true }),
            admin_key: Type.Array(AdminKeySchema, { default: [{ name: 'admin', key: '', role: 'admin' }] }),
            admin_listen: Type.Object(
              {
                ip: Type.String({ default: '127.0.0.1', minLength: 1 }),
                port: Type.Integer({ minimum: 1, maximum: 65535, default: 9180 }),
              },
              { default: {}, additionalProperties: false },
            ),
            allow_admin: Type.Array(Type.String({ minLength: 1 }), { default: ['127.0.0.0/24'] }),
            enable_admin_cors: Type.Boolean({ default: true }),
          },
          { default: {} },
        ),
        etcd: Type.Optional(
          Type.Object({
            host: Type.Array(Type.String({ pattern: '^https?://' }), {
              minItems: 1,
              default: ['http://127.0.0.1:2379'],
            }),
            prefix: Type.String({ pattern: '^/', default: '/apisix' }),
            timeout: Type.Integer({ minimum: 1, default: 30 }),
            watch_timeout: Type.Integer({ minimum: 1, default: 50 }),
            startup_retry: Type.Integer({ minimum: 0, default: 2 }),
            resync_delay: Type.Number({ minimum: 0, default: 5 }),
            user: Type.Optional(Type.String()),
            password: Type.Optional(Type.String()),
          }),
        ),
        /** Switchboard addition: where the embedded store (and a generated admin key) persist. */
        embedded: Type.Object({ data_dir: Type.String({ minLength: 1, default: './data' }) }, { default: {} }),
      },
      { default: {} },
    ),
  },
  { default: {} },
);

export type ConfigFile = Static<typeof ConfigFileSchema>;
export type AdminDeploymentConfig = ConfigFile['deployment']['admin'];
export type EtcdConfig = NonNullable<ConfigFile['deployment']['etcd']>;
export type DataEncryptionConfig = ConfigFile['apisix']['data_encryption'];
