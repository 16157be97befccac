import type { Cluster, Redis, Result } from 'ioredis';

/**
 * The two quota operations as Lua scripts, so each one is a single atomic step in Redis: the same
 * window rules as `currentWindow` in core's quota-counter-store.ts, run where the counter lives.
 *
 * - One hash per counter: `used`, `startedAt` (ms; the window id) and `windowMs` (the length the window
 *   was opened with, kept when a later request asks for another one, as the memory store does).
 * - The TTL is the window: PEXPIREAT its end, set when it opens and never moved, so Redis drops ended
 *   windows (absolute, on the clock `now` is read from, so the key never outlives or precedes it).
 * - `now` comes from Redis `TIME`, so replicas with skewed clocks see the same windows.
 * - One key per script: it runs on whichever Redis Cluster node owns the key's slot.
 * - Numbers go back as strings: Redis would truncate a Lua number reply to an integer.
 */

const PRELUDE = `
-- Redis < 5 refuses writes after TIME unless the script is replicated by its effects.
if redis.replicate_commands then redis.replicate_commands() end
local function num(value) return string.format('%.17g', value) end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local stored = redis.call('HMGET', KEYS[1], 'used', 'startedAt', 'windowMs')
local used, startedAt, length = tonumber(stored[1]), tonumber(stored[2]), tonumber(stored[3])
local live = used ~= nil and startedAt ~= nil and length ~= nil and now < startedAt + length
local function open(initial, windowMs)
  redis.call('HSET', KEYS[1], 'used', num(initial), 'startedAt', num(now), 'windowMs', num(windowMs))
  redis.call('PEXPIREAT', KEYS[1], math.ceil(now + windowMs))
end
`;

/**
 * KEYS[1] counter; ARGV windowMs, limit, amount, check (1|0).
 * → { admitted (1|0), usedBefore, resetMs, windowId }.
 * A window that was never charged is re-armed (APISIX quirk, admin-api.md §8.4).
 */
export const RESERVE_SCRIPT = `${PRELUDE}
local windowMs, limit, amount = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local admitted
if live and used ~= 0 then
  admitted = ARGV[4] ~= '1' or used < limit
  if admitted and amount ~= 0 then redis.call('HSET', KEYS[1], 'used', num(used + amount)) end
else
  used, startedAt, length = 0, now, windowMs
  admitted = ARGV[4] ~= '1' or 0 < limit
  open((admitted and amount) or 0, windowMs)
end
return { admitted and 1 or 0, num(used), num(startedAt + length - now), num(startedAt) }
`;

/**
 * KEYS[1] counter; ARGV windowMs, delta, windowId. → 1 when applied, 0 when dropped.
 * Settles the window the reservation went to; once that window has ended, a give-back is dropped and
 * a charge goes to the current window.
 */
export const ADJUST_SCRIPT = `${PRELUDE}
local windowMs, delta = tonumber(ARGV[1]), tonumber(ARGV[2])
if live and stored[2] == ARGV[3] then
  redis.call('HSET', KEYS[1], 'used', num(math.max(0, used + delta)))
  return 1
end
if delta < 0 then return 0 end
if live and used ~= 0 then
  redis.call('HSET', KEYS[1], 'used', num(used + delta))
else
  open(delta, windowMs)
end
return 1
`;

const RESERVE_COMMAND = 'switchboardQuotaReserve';
const ADJUST_COMMAND = 'switchboardQuotaAdjust';

declare module 'ioredis' {
  interface RedisCommander<Context> {
    switchboardQuotaReserve(
      key: string,
      windowMs: number,
      limit: number,
      amount: number,
      check: 0 | 1,
    ): Result<unknown, Context>;
    switchboardQuotaAdjust(key: string, windowMs: number, delta: number, windowId: string): Result<unknown, Context>;
  }
}

export interface QuotaScriptClient {
  reserve(key: string, windowMs: number, limit: number, amount: number, check: boolean): Promise<unknown>;
  adjust(key: string, windowMs: number, delta: number, windowId: string): Promise<unknown>;
}

/**
 * Registers the scripts on `client` with `defineCommand`: ioredis sends EVALSHA and falls back to EVAL
 * when Redis answers NOSCRIPT (a restarted or failed-over Redis has an empty script cache).
 *
 * @example
 *   const scripts = defineQuotaScripts(new Redis());
 *   await scripts.reserve('switchboard:ai-quota:/apisix/routes/1#gpt', 60_000, 30, 10, true);
 */
export function defineQuotaScripts(client: Redis | Cluster): QuotaScriptClient {
  client.defineCommand(RESERVE_COMMAND, { numberOfKeys: 1, lua: RESERVE_SCRIPT });
  client.defineCommand(ADJUST_COMMAND, { numberOfKeys: 1, lua: ADJUST_SCRIPT });
  return {
    reserve: (key, windowMs, limit, amount, check) =>
      client.switchboardQuotaReserve(key, windowMs, limit, amount, check ? 1 : 0),
    adjust: (key, windowMs, delta, windowId) => client.switchboardQuotaAdjust(key, windowMs, delta, windowId),
  };
}
