/**
 * Recorded BMS replies for the simulator's replay mode: a text file with one whole frame
 * per line (`[<seconds>] <hex>`, spaces in the hex allowed; `#` lines are comments), such as the capture of a real
 * Express 6.05 in test/fixtures/frames/bms-express-fw605-sequence.txt. Every frame must
 * pass its CRC and be a COMM_BMS_GET_VALUES reply; the payloads are served in file order.
 */
import { readFileSync } from "node:fs";
import { CommandId, FIRMWARE_MAX_PAYLOAD, FrameDecoder } from "../protocol/index.js";

/** A replay file that cannot be used, with the line at fault. */
export class ReplayFileError extends Error {
  override readonly name = "ReplayFileError";
}

/** The BMS reply payloads of a replay file's text, in order. */
export function parseReplayText(text: string, source = "replay file"): Uint8Array[] {
  const payloads: Uint8Array[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? "").trim();
    if (line === "" || line.startsWith("#")) continue;
    const where = `${source} line ${i + 1}`;
    const tokens = line.split(/\s+/);
    if (/^\d+\.\d+$/.test(tokens[0] ?? "")) tokens.shift(); // the capture time, seconds
    const hex = tokens.join("");
    if (hex.length === 0 || hex.length % 2 !== 0 || /[^0-9a-fA-F]/.test(hex)) {
      throw new ReplayFileError(`${where}: not a hex frame`);
    }
    const bytes = Uint8Array.from(hex.match(/../g) ?? [], (h) => Number.parseInt(h, 16));
    const events = new FrameDecoder({ maxPayload: FIRMWARE_MAX_PAYLOAD }).push(bytes);
    const frames = events.filter((e) => e.kind === "frame");
    if (frames.length !== 1 || events.length !== 1 || !frames[0]) {
      throw new ReplayFileError(`${where}: not exactly one valid frame (bad CRC, length or end byte?)`);
    }
    const payload = frames[0].payload.slice();
    if (payload[0] !== CommandId.BmsGetValues) {
      throw new ReplayFileError(`${where}: not a COMM_BMS_GET_VALUES reply (command ${payload[0]})`);
    }
    payloads.push(payload);
  }
  if (payloads.length === 0) throw new ReplayFileError(`${source}: no frames`);
  return payloads;
}

/** Reads a replay file; a missing file or bad line is a ReplayFileError. */
export function loadReplayFile(path: string): Uint8Array[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ReplayFileError(`cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? "error"})`);
  }
  return parseReplayText(text, path);
}
