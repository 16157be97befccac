import type { ConfigListener, ConfigSource } from '@switchboard/core';
import type { PrimaryMessage } from './ipc-messages.js';

/** A ConfigSource that a worker feeds with the primary's relayed snapshot and change messages. */
export interface IpcConfigSource extends ConfigSource {
  /** Hands one relayed message over; messages that arrive before `start` are kept in order. */
  deliver(message: Extract<PrimaryMessage, { sb: 'snapshot' | 'changes' }>): void;
}

/**
 * The worker side of the relay: the primary owns the real source (etcd or embedded) and forwards
 * what it reports, so each worker applies the same batches in the same order.
 *
 * @example const source = createIpcConfigSource(); process.on('message', (m) => source.deliver(m));
 */
export function createIpcConfigSource(): IpcConfigSource {
  let listener: ConfigListener | undefined;
  const pending: Extract<PrimaryMessage, { sb: 'snapshot' | 'changes' }>[] = [];

  const apply = (message: Extract<PrimaryMessage, { sb: 'snapshot' | 'changes' }>, to: ConfigListener): void => {
    if (message.sb === 'snapshot') to.onSnapshot(message.items, message.revision);
    else to.onChanges(message.events, message.revision);
  };

  return {
    start(_prefix, startListener) {
      listener = startListener;
      for (const message of pending.splice(0)) apply(message, startListener);
    },
    deliver(message) {
      if (listener === undefined) pending.push(message);
      else apply(message, listener);
    },
    async close() {
      listener = undefined;
    },
  };
}
