/**
 * The bridge's minimal leveled logger (stderr, one line per event). Messages are built
 * from ids, URLs without secrets and error codes: never from config values that may hold
 * a password. Control characters in a message are escaped, so every event stays one line.
 */
import type { Log } from "../model/log.js";

export { type Log, silentLog } from "../model/log.js";

export type LogLevel = keyof Log;

const ORDER: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/**
 * What a terminal or log viewer would act on instead of show: C0/C1 controls (ESC starts
 * colour and OSC sequences, CR overwrites the line, NUL truncates), DEL, the Unicode line
 * separators and bidi overrides. Device ids and hardware strings come from the network.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const CONTROLS = new RegExp(CONTROL.source, "g");
const SHORT: Record<string, string> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `s` with control characters written as escapes (\n, \x1b, \u202e): printable, one line. */
export function escapeControl(s: string): string {
  if (!CONTROL.test(s)) return s;
  return s.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    return (
      SHORT[c] ??
      (code < 0x100 ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`)
    );
  });
}

export function createLog(
  level: LogLevel,
  write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
): Log {
  const at = (l: LogLevel) => (msg: string) => {
    if (ORDER[l] <= ORDER[level]) write(`${new Date().toISOString()} ${l.padEnd(5)} ${escapeControl(msg)}`);
  };
  return { error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
}
