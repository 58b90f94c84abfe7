/**
 * The one logger shape every part of the bridge takes: four levels, one line per call.
 * Messages are built from ids, secret-free URLs and error codes, never from config values.
 */
export interface Log {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
}

export const silentLog: Log = { error() {}, warn() {}, info() {}, debug() {} };

/** A logger with only some levels (a test's, an embedder's) completed with silent ones. */
export function completeLog(log: Partial<Log> | undefined): Log {
  if (!log) return silentLog;
  const at = (l: keyof Log) => (log[l] ? (msg: string) => log[l]?.(msg) : () => undefined);
  return { error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
}
