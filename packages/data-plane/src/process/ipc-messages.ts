import type { AddressInfo } from 'node:net';
import type {
  ChangeEvent,
  ConfigFile,
  PassiveObservation,
  QuotaAdjustRequest,
  QuotaReservation,
  QuotaReserveRequest,
  StoredItem,
} from '@switchboard/core';
import type { HealthSnapshot } from '../health/health-board.js';
import type { ProviderEnv } from '../plugins/ai-proxy-multi/auth/provider-auth-runtime.js';

/**
 * The messages between the data-plane primary and its workers over `node:cluster` IPC
 * (architecture.md "Processes per role"). Every message carries `sb` so other IPC traffic is ignored.
 */
export type PrimaryMessage =
  | {
      readonly sb: 'init';
      readonly slot: number;
      readonly config: ConfigFile;
      readonly prefix: string;
      readonly logLevel: string;
      /** Environment values LLM providers read, from the CLI (STYLE §8). */
      readonly providerEnv: ProviderEnv;
    }
  /** The primary's latest full state: sent on every resync, and to a newly started worker. */
  | { readonly sb: 'snapshot'; readonly items: readonly StoredItem[]; readonly revision: number }
  | { readonly sb: 'changes'; readonly events: readonly ChangeEvent[]; readonly revision: number }
  /** The node's instance health (ai-proxy-multi.md §7): sent on every change, and to a newly started worker. */
  | { readonly sb: 'health'; readonly snapshot: HealthSnapshot }
  /** The answer to a worker's `quota-reserve` (ai-rate-limiting `local` counters live in the primary). */
  | { readonly sb: 'quota-reserved'; readonly id: number; readonly reservation: QuotaReservation }
  /** The answer to a worker's `quota-adjust`: the node's counters took it. */
  | { readonly sb: 'quota-adjusted'; readonly id: number }
  | { readonly sb: 'shutdown' };

export type WorkerMessage =
  /**
   * The worker's message handler is installed. Sent first: 'online' fires before an ES module worker
   * has loaded, and a message that arrives before the handler exists is lost.
   */
  | { readonly sb: 'booted' }
  | { readonly sb: 'listening'; readonly addresses: readonly AddressInfo[] }
  | { readonly sb: 'listen-failed'; readonly message: string }
  | { readonly sb: 'applied'; readonly revision: number; readonly fullyLoaded: boolean }
  /** What one attempt taught about an instance, for the node's passive health (Beyond APISIX). */
  | { readonly sb: 'passive-health'; readonly key: string; readonly observation: PassiveObservation }
  /** ai-rate-limiting `local` policy: reserve on the node's counters; answered with `quota-reserved`. */
  | { readonly sb: 'quota-reserve'; readonly id: number; readonly request: QuotaReserveRequest }
  | { readonly sb: 'quota-adjust'; readonly id: number; readonly request: QuotaAdjustRequest };

export function isPrimaryMessage(value: unknown): value is PrimaryMessage {
  return hasTag(value, ['init', 'snapshot', 'changes', 'health', 'quota-reserved', 'quota-adjusted', 'shutdown']);
}

export function isWorkerMessage(value: unknown): value is WorkerMessage {
  return hasTag(value, [
    'booted',
    'listening',
    'listen-failed',
    'applied',
    'passive-health',
    'quota-reserve',
    'quota-adjust',
  ]);
}

function hasTag(value: unknown, tags: readonly string[]): boolean {
  return typeof value === 'object' && value !== null && tags.includes(String((value as { sb?: unknown }).sb));
}
