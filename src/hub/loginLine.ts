/**
 * The first line of a hub connection, parsed exactly like vesc_tool tcphub.cpp:
 * `<type>:<id>:<password>\n`, exactly three `:`-separated tokens, type and id upper-cased
 * with spaces removed (ids are case-insensitive), the password verbatim, an id shorter
 * than 3 characters refused. Pure: no sockets, no timers.
 */

export type LoginKind = "VESC" | "VESCTOOL" | "PING";

export interface LoginLine {
  readonly kind: LoginKind;
  /** Normalised device id: upper case, spaces removed. */
  readonly id: string;
  /** Verbatim (case-sensitive). Never log it. */
  readonly password: string;
}

export type LoginParseError = "tokens" | "shortId" | "type";

/** Upper-case and strip spaces, as the reference hub does with `toUpper().remove(" ")`. */
export function normaliseHubId(id: string): string {
  return id.replaceAll(" ", "").toUpperCase();
}

/** Parses one line (without its `\n`). */
export function parseLoginLine(line: string): LoginLine | { readonly error: LoginParseError } {
  const tokens = line.split(":");
  if (tokens.length !== 3) return { error: "tokens" };
  const [rawType, rawId, password] = tokens as [string, string, string];
  const type = normaliseHubId(rawType);
  const id = normaliseHubId(rawId);
  if (type !== "VESC" && type !== "VESCTOOL" && type !== "PING") return { error: "type" };
  if (id.length < 3) return { error: "shortId" };
  return { kind: type, id, password };
}

export type LineEvent =
  | { readonly kind: "need" }
  | { readonly kind: "tooLong" }
  /** The line (latin1-decoded, without `\n`) and the bytes that followed it in the same chunk. */
  | { readonly kind: "line"; readonly line: string; readonly rest: Uint8Array };

/**
 * Accumulates bytes until the first `\n`, refusing lines longer than `maxBytes` (the `\n`
 * included) so a client cannot make the hub buffer without bound before logging in.
 */
export class LineReader {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  constructor(private readonly maxBytes: number) {}

  push(chunk: Uint8Array): LineEvent {
    const nl = chunk.indexOf(0x0a);
    const take = nl < 0 ? chunk.length : nl + 1;
    if (this.size + take > this.maxBytes) return { kind: "tooLong" };
    if (nl < 0) {
      this.parts.push(chunk);
      this.size += chunk.length;
      return { kind: "need" };
    }
    this.parts.push(chunk.subarray(0, nl));
    const line = Buffer.concat(this.parts).toString("latin1");
    this.parts.length = 0;
    this.size = 0;
    return { kind: "line", line, rest: chunk.subarray(nl + 1) };
  }
}
