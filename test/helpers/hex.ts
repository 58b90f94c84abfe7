import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** "02 01 00 00 00 03" → bytes; whitespace and newlines ignored. */
export function hex(text: string): Uint8Array {
  const clean = text.replace(/\s+/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-f]/i.test(clean)) throw new Error(`bad hex: ${text}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** Reads a fixture from test/fixtures/frames: `#` lines are provenance comments. */
export function fixtureFrame(name: string): Uint8Array {
  const path = fileURLToPath(new URL(`../fixtures/frames/${name}`, import.meta.url));
  const body = readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => !l.startsWith("#"))
    .join(" ");
  return hex(body);
}

/** Named request frames from requests-vesctool.hex. */
export function fixtureRequests(): Map<string, Uint8Array> {
  const path = fileURLToPath(new URL("../fixtures/frames/requests-vesctool.hex", import.meta.url));
  const out = new Map<string, Uint8Array>();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line.startsWith("#") || line.trim() === "") continue;
    const [name, ...bytes] = line.trim().split(/\s+/);
    if (name) out.set(name, hex(bytes.join("")));
  }
  return out;
}
