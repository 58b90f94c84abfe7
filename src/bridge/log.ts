/**
 * The bridge's minimal leveled logger (stderr, one line per event). Messages are built
 * from ids, URLs without secrets and error codes: never from config values that may hold
 * a password.
 */
export type LogLevel = "error" | "warn" | "info" | "debug";

export interface Log {
  error(msg: string): void;
  warn(msg: string): void;
  info(msg: string): void;
  debug(msg: string): void;
}

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

export function createLog(
  level: LogLevel,
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Log {
  const at = (l: LogLevel) => (msg: string) => {
    if (ORDER[l] <= ORDER[level]) write(`${new Date().toISOString()} ${l.padEnd(5)} ${msg}`);
  };
  return { error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
}

export const silentLog: Log = { error() {}, warn() {}, info() {}, debug() {} };
