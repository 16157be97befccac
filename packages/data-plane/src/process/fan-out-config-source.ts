import type { ConfigListener, ConfigSource } from '@switchboard/core';

/** One listener that hands every snapshot, change batch and error to each of `listeners`, in order. */
export function fanOutConfigListener(...listeners: readonly ConfigListener[]): ConfigListener {
  return {
    onSnapshot(items, revision) {
      for (const listener of listeners) listener.onSnapshot(items, revision);
    },
    onChanges(events, revision) {
      for (const listener of listeners) listener.onChanges(events, revision);
    },
    onError(error) {
      for (const listener of listeners) listener.onError?.(error);
    },
  };
}

/**
 * A ConfigSource that also feeds `extra` whatever it feeds its own listener: with `workers: 0` the proxy
 * starts the source itself, and the node's health service must follow the same config.
 *
 * @example createProxyServer({ source: withExtraListener(store, health.listener), … })
 */
export function withExtraListener(source: ConfigSource, extra: ConfigListener): ConfigSource {
  return {
    start: (prefix, listener) => source.start(prefix, fanOutConfigListener(listener, extra)),
    close: () => source.close(),
  };
}
