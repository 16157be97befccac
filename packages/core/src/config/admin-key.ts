import { randomInt } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AdminKey } from './config-file-schema.js';

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const KEY_FILE = 'admin-keys.json';

export interface ResolvedAdminKeys {
  readonly keys: readonly AdminKey[];
  /** Names whose key was generated in this start (print them once). */
  readonly generated: readonly string[];
  /** Names whose key was read back from an earlier generation. */
  readonly restored: readonly string[];
  readonly file: string;
}

/**
 * Never a well-known default: an admin key left empty is generated (32 letters, like APISIX's
 * core/id.lua) and persisted under the data dir so it survives restarts; APISIX writes it back into
 * config.yaml instead, which we don't do because the file may be read-only (a mounted ConfigMap).
 *
 * @example
 *   const { keys, generated } = await ensureAdminKeys({ keys: config.deployment.admin.admin_key, dataDir: './data' });
 */
export async function ensureAdminKeys(options: {
  readonly keys: readonly AdminKey[];
  readonly dataDir: string;
  readonly randomIndex?: (bound: number) => number;
}): Promise<ResolvedAdminKeys> {
  const file = join(options.dataDir, KEY_FILE);
  const randomIndex = options.randomIndex ?? ((bound: number) => randomInt(bound));
  if (options.keys.every((entry) => entry.key !== '')) return { keys: options.keys, generated: [], restored: [], file };

  const stored = await readStoredKeys(file);
  const generated: string[] = [];
  const restored: string[] = [];
  const keys = options.keys.map((entry) => {
    if (entry.key !== '') return entry;
    const previous = stored[entry.name];
    if (previous !== undefined) {
      restored.push(entry.name);
      return { ...entry, key: previous };
    }
    generated.push(entry.name);
    const key = Array.from({ length: 32 }, () => LETTERS[randomIndex(LETTERS.length)]).join('');
    stored[entry.name] = key;
    return { ...entry, key };
  });
  if (generated.length > 0) {
    await mkdir(options.dataDir, { recursive: true });
    await writeFile(file, `${JSON.stringify(stored, null, 2)}\n`, { mode: 0o600 });
  }
  return { keys, generated, restored, file };
}

async function readStoredKeys(file: string): Promise<Record<string, string>> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as unknown;
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return {};
    return Object.fromEntries(
      Object.entries(parsed).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
    );
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
}
