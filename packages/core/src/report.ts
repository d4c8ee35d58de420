import { describe } from './duration.js';

/** Callbacks whose error has been reported: a callback that throws every time is reported once. */
const reported = new WeakSet<object>();

interface WarningProcess {
  emitWarning(warning: string, options: { type: string; code: string; detail?: string }): void;
}

/**
 * Reports an error thrown by one of the user's callbacks that palisade caught so that it would not
 * change a call's outcome: an `onEvent` listener, an `isFailure` or `isDrop` predicate, an `openMs`
 * function, an `onRejected` handler, an `onWarning` sink. The call goes on as documented for that
 * option; the error is not lost. On Node it becomes a process warning — type `PalisadeWarning`, code
 * `PALISADE_CALLBACK_THREW`, the error's stack as its detail — which `process.on('warning')`
 * receives and `--no-warnings` silences; elsewhere it goes to `console.warn`. Once per callback: a
 * listener that throws on every event must not flood the log.
 *
 * @param option the option the callback was given as, e.g. `'onEvent'`
 */
export function reportCallbackError(option: string, callback: object, error: unknown): void {
  if (reported.has(callback)) return;
  reported.add(callback);
  const what = error instanceof Error ? `${error.name}: ${error.message}` : describe(error);
  const message =
    `palisade: the ${option} callback threw (${what}); palisade went on without it. ` +
    'Later errors of this callback are not reported.';
  const detail = error instanceof Error && typeof error.stack === 'string' ? error.stack : undefined;
  const host = (globalThis as { process?: Partial<WarningProcess> }).process;
  try {
    if (typeof host?.emitWarning === 'function') {
      host.emitWarning(message, {
        type: 'PalisadeWarning',
        code: 'PALISADE_CALLBACK_THREW',
        ...(detail === undefined ? {} : { detail }),
      });
    } else {
      console.warn(message, error);
    }
  } catch {
    // Reporting must never break the call it comes from.
  }
}
