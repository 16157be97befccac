import { adminError } from '../errors.js';
import { keyOf } from '../resources/define-resource.js';
import { assertNoTimestamps, requireObjectBody, resolvePutId, runResourceChecks } from './check-pipeline.js';
import type { CrudRequest, CrudResult } from './crud-request.js';

/** §2.2: POST ids are the revision of a write to `<prefix>/gen_id`, as 20 zero-padded digits. */
const GENERATED_ID_DIGITS = 20;

function bodyOrMissing(body: unknown): unknown {
  if (body === undefined || body === null) throw adminError('SB_ADMIN_MISSING_CONFIGURATIONS');
  return body;
}

/**
 * PUT (admin-api.md §2.3): create (201) or replace (200) one item; `create_time` survives a replace.
 * The answer shows the stored value, ciphertext included (§1.7).
 */
export async function putResource(request: CrudRequest): Promise<CrudResult> {
  const { ctx, descriptor, address } = request;
  const conf = requireObjectBody(descriptor, bodyOrMissing(request.body));
  const urlId = descriptor.identity === 'id' ? resolvePutId(descriptor.kind, address.id, conf) : undefined;
  assertNoTimestamps(conf);
  const { id } = await runResourceChecks(ctx, descriptor, address, conf, urlId);
  const encrypted = ctx.secrets.encrypt(descriptor.name, conf);
  await descriptor.beforeStore(ctx, address);
  const key = keyOf(ctx, descriptor, address, id);
  const previous = await ctx.store.get(key);
  const previousCreateTime = previous === undefined ? undefined : previousCreateTimeOf(previous.value);
  const now = ctx.nowSeconds();
  // §2.8: the user's body (secrets encrypted) plus id and timestamps; defaults are not persisted.
  const value = { ...encrypted, create_time: previousCreateTime ?? now, update_time: now };
  const result = await ctx.store.put(key, JSON.stringify(value), ttlOption(request.ttlSeconds));
  return { status: result.created ? 201 : 200, body: { key, value } };
}

function previousCreateTimeOf(raw: string): number | undefined {
  try {
    const previous = JSON.parse(raw) as { create_time?: unknown };
    return typeof previous.create_time === 'number' ? previous.create_time : undefined;
  } catch {
    return undefined;
  }
}

function ttlOption(ttlSeconds: number | undefined): { ttlSeconds: number } | undefined {
  return ttlSeconds === undefined ? undefined : { ttlSeconds };
}

/** POST (§2.2, §2.3): create with a generated id; any id in the URL or body is refused. */
export async function postResource(request: CrudRequest): Promise<CrudResult> {
  const { ctx, descriptor, address } = request;
  const conf = requireObjectBody(descriptor, bodyOrMissing(request.body));
  if (address.id !== undefined || conf.id !== undefined) throw adminError('SB_ADMIN_ID_NOT_NEEDED', descriptor.kind);
  assertNoTimestamps(conf);
  await runResourceChecks(ctx, descriptor, address, conf, undefined);
  const encrypted = ctx.secrets.encrypt(descriptor.name, conf);
  await descriptor.beforeStore(ctx, address);
  const generation = await ctx.store.put(`${ctx.prefix}/gen_id`, '1');
  const id = String(generation.revision).padStart(GENERATED_ID_DIGITS, '0');
  const key = keyOf(ctx, descriptor, address, id);
  const now = ctx.nowSeconds();
  const value = { ...encrypted, id, create_time: now, update_time: now };
  await ctx.store.put(key, JSON.stringify(value), ttlOption(request.ttlSeconds));
  return { status: 201, body: { key, value } };
}
