import type { FileHandle } from 'node:fs/promises';
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { SwitchboardError } from '../errors.js';
import type { StoredItem } from './contract.js';

/**
 * The embedded store on disk: `snapshot.jsonl` (the compacted state, replaced atomically by rename) and
 * `log.jsonl` (one JSON line per write since that snapshot, appended and fsynced before a write is
 * acknowledged). Opening replays both, then compacts the log into a fresh snapshot.
 */

export const SNAPSHOT_FILE = 'snapshot.jsonl';
export const LOG_FILE = 'log.jsonl';
const SNAPSHOT_FORMAT = 'switchboard-embedded-snapshot/1';

/** A stored item plus its lease deadline (epoch ms) when it was written with a ttl. */
export interface PersistedItem extends StoredItem {
  readonly expiresAt?: number;
}

/** One write. A `deletePrefix` writes one record per deleted key, each with its own revision. */
export type LogRecord =
  | {
      readonly rev: number;
      readonly op: 'put';
      readonly key: string;
      readonly value: string;
      readonly createRevision: number;
      readonly expiresAt?: number;
    }
  | { readonly rev: number; readonly op: 'delete'; readonly key: string };

export interface StoreState {
  revision: number;
  readonly items: Map<string, PersistedItem>;
}

export interface StoreWarningLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

/** Applies one record to the in-memory state. The caller has already checked it (see `checkRecord`). */
export function applyRecord(state: StoreState, record: LogRecord): PersistedItem | undefined {
  state.revision = record.rev;
  if (record.op === 'delete') {
    state.items.delete(record.key);
    return undefined;
  }
  const item: PersistedItem = {
    key: record.key,
    value: record.value,
    createRevision: record.createRevision,
    modRevision: record.rev,
    ...(record.expiresAt === undefined ? {} : { expiresAt: record.expiresAt }),
  };
  state.items.set(record.key, item);
  return item;
}

export interface StoreFiles {
  /** Appends and fsyncs; on failure the log is cut back so no torn record stays behind. */
  append(records: readonly LogRecord[]): Promise<void>;
  /** Number of records appended since the last compaction. */
  readonly recordsSinceCompaction: number;
  /** Writes `state` as the new snapshot and empties the log. */
  compact(state: StoreState): Promise<void>;
  close(): Promise<void>;
}

/**
 * Creates `dataDir` if needed, loads snapshot + log, compacts, and returns the state and the open log.
 * A torn last log line (a crash during append, so never acknowledged) is dropped with a warning; any
 * other unreadable line is SB_ERR_STORE_CORRUPT naming the file and line.
 */
export async function openStoreFiles(
  dataDir: string,
  logger: StoreWarningLogger,
): Promise<{ readonly state: StoreState; readonly files: StoreFiles }> {
  await mkdir(dataDir, { recursive: true });
  const snapshotPath = join(dataDir, SNAPSHOT_FILE);
  const logPath = join(dataDir, LOG_FILE);

  const snapshotText = await readOptional(snapshotPath);
  const state = snapshotText === undefined ? emptyState() : parseSnapshot(snapshotText, snapshotPath);
  const replayed = replayLog((await readOptional(logPath)) ?? '', logPath, state, logger);

  const handle = await open(logPath, 'a');
  let size = 0;
  let recordsSinceCompaction = 0;

  async function compact(current: StoreState): Promise<void> {
    await writeSnapshot(dataDir, snapshotPath, current);
    // Records still in the log are all ≤ the snapshot revision now, so a crash before this
    // truncate is harmless: replay skips them.
    await handle.truncate(0);
    await handle.datasync();
    size = 0;
    recordsSinceCompaction = 0;
  }

  if (snapshotText === undefined || replayed > 0 || (await handle.stat()).size > 0) await compact(state);

  const files: StoreFiles = {
    get recordsSinceCompaction() {
      return recordsSinceCompaction;
    },
    async append(records) {
      const text = records.map((record) => `${JSON.stringify(record)}\n`).join('');
      try {
        await handle.appendFile(text, 'utf8');
        await handle.datasync();
      } catch (error) {
        await handle.truncate(size).catch(() => undefined);
        throw error;
      }
      size += Buffer.byteLength(text);
      recordsSinceCompaction += records.length;
    },
    compact,
    close: () => handle.close(),
  };
  return { state, files };
}

function emptyState(): StoreState {
  return { revision: 0, items: new Map() };
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function corrupt(path: string, line: number, reason: string): SwitchboardError {
  return new SwitchboardError('SB_ERR_STORE_CORRUPT', `embedded store file ${path} line ${line}: ${reason}`);
}

function parseJsonLine(text: string, path: string, line: number): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw corrupt(path, line, `not valid JSON (${(error as Error).message})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw corrupt(path, line, 'not a JSON object');
  }
  return parsed as Record<string, unknown>;
}

function isRevision(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

function optionalExpiry(fields: Record<string, unknown>, path: string, line: number): { expiresAt?: number } {
  const expiresAt = fields.expiresAt;
  if (expiresAt === undefined) return {};
  if (typeof expiresAt !== 'number' || !Number.isFinite(expiresAt)) {
    throw corrupt(path, line, '"expiresAt" is not a number');
  }
  return { expiresAt };
}

function parseSnapshot(text: string, path: string): StoreState {
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw corrupt(path, lines.length, 'the snapshot does not end with a newline');
  lines.pop();
  const header = parseJsonLine(lines[0] ?? '', path, 1);
  if (header.format !== SNAPSHOT_FORMAT) throw corrupt(path, 1, `unknown snapshot format ${String(header.format)}`);
  const revision = header.revision;
  if (revision !== 0 && !isRevision(revision)) throw corrupt(path, 1, '"revision" is not a revision number');
  const state: StoreState = { revision, items: new Map() };
  for (let index = 1; index < lines.length; index += 1) {
    const line = index + 1;
    const fields = parseJsonLine(lines[index] ?? '', path, line);
    const { key, value, createRevision, modRevision } = fields;
    if (typeof key !== 'string' || typeof value !== 'string')
      throw corrupt(path, line, '"key" and "value" must be strings');
    if (
      !isRevision(createRevision) ||
      !isRevision(modRevision) ||
      createRevision > modRevision ||
      modRevision > revision
    ) {
      throw corrupt(path, line, 'bad "createRevision"/"modRevision"');
    }
    state.items.set(key, { key, value, createRevision, modRevision, ...optionalExpiry(fields, path, line) });
  }
  return state;
}

function checkRecord(fields: Record<string, unknown>, state: StoreState, path: string, line: number): LogRecord {
  const { rev, op, key } = fields;
  if (!isRevision(rev)) throw corrupt(path, line, '"rev" is not a revision number');
  if (typeof key !== 'string') throw corrupt(path, line, '"key" is not a string');
  if (rev !== state.revision + 1)
    throw corrupt(path, line, `revision ${rev} out of order, expected ${state.revision + 1}`);
  if (op === 'delete') {
    if (!state.items.has(key)) throw corrupt(path, line, `deletes ${key}, which does not exist`);
    return { rev, op, key };
  }
  if (op !== 'put') throw corrupt(path, line, `unknown op ${String(op)}`);
  const { value, createRevision } = fields;
  if (typeof value !== 'string') throw corrupt(path, line, '"value" is not a string');
  const expected = state.items.get(key)?.createRevision ?? rev;
  if (createRevision !== expected) throw corrupt(path, line, `"createRevision" should be ${expected}`);
  return { rev, op, key, value, createRevision: expected, ...optionalExpiry(fields, path, line) };
}

/** Replays the log onto `state`; returns how many records were applied. */
function replayLog(text: string, path: string, state: StoreState, logger: StoreWarningLogger): number {
  const lines = text.split('\n');
  // Everything after the last newline was being appended when the process died: that write was
  // never fsynced, so never acknowledged, and dropping it loses nothing anyone was told about.
  const tail = lines.pop() ?? '';
  let applied = 0;
  const snapshotRevision = state.revision;
  const replayLine = (fields: Record<string, unknown>, line: number): void => {
    // Records at or below the snapshot revision survive a crash between snapshot rename and log truncate.
    if (typeof fields.rev === 'number' && fields.rev <= snapshotRevision) return;
    applyRecord(state, checkRecord(fields, state, path, line));
    applied += 1;
  };
  for (const [index, lineText] of lines.entries()) replayLine(parseJsonLine(lineText, path, index + 1), index + 1);
  if (tail !== '') {
    const line = lines.length + 1;
    let fields: Record<string, unknown> | undefined;
    try {
      fields = parseJsonLine(tail, path, line);
    } catch {
      logger.warn({ file: path, line }, 'embedded store: dropping a torn last log line (unacknowledged write)');
    }
    if (fields !== undefined) replayLine(fields, line);
  }
  return applied;
}

async function writeSnapshot(dataDir: string, snapshotPath: string, state: StoreState): Promise<void> {
  const lines = [JSON.stringify({ format: SNAPSHOT_FORMAT, revision: state.revision })];
  for (const item of state.items.values()) lines.push(JSON.stringify(item));
  const temporaryPath = `${snapshotPath}.tmp`;
  const temporary = await open(temporaryPath, 'w');
  try {
    await temporary.writeFile(`${lines.join('\n')}\n`, 'utf8');
    await temporary.sync();
  } finally {
    await temporary.close();
  }
  await rename(temporaryPath, snapshotPath);
  await syncDirectory(dataDir);
}

/** Makes the rename durable; some platforms cannot open a directory, where rename is durable anyway. */
async function syncDirectory(dataDir: string): Promise<void> {
  let directory: FileHandle | undefined;
  try {
    directory = await open(dataDir, 'r');
    await directory.sync();
  } catch {
    // EISDIR/EPERM on platforms without directory fsync.
  } finally {
    await directory?.close();
  }
}
