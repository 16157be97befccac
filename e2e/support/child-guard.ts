import type { ChildProcess } from 'node:child_process';

/**
 * Makes sure a spawned child dies with the test process, even when a test throws before its
 * cleanup or the runner cancels the file: on `exit` the child gets SIGKILL; on SIGINT/SIGTERM it
 * gets SIGKILL and the signal is re-raised so the test process still ends the way it was asked to.
 * Returns a function that removes the guard (call it once the child was stopped normally).
 */
export function guardChild(child: ChildProcess): () => void {
  const killChild = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    killChild();
    unguard();
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  const unguard = (): void => {
    process.off('exit', killChild);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  process.on('exit', killChild);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  child.once('exit', unguard);
  return unguard;
}
