/**
 * One fresh-process decoder run for bench/decoder.ts, as a library user runs it: the package
 * entry imported, no V8 flags, nothing warmed up. Prints one JSON line (the Run of decoder.ts).
 * argv: MODE FILE PASSES CHUNK — MODE "bms" decodes every frame with decodeBmsValues (the
 * checksum sums the same fields as bench/decoder_ref.cpp), "frames" runs FrameDecoder alone.
 */
import { readFileSync } from "node:fs";
import { decodeBmsValues, FrameDecoder, isProtocolError } from "../src/index.js";

const [mode = "bms", file = "", passesArg = "1", chunkArg = "4096"] = process.argv.slice(2);
const stream = new Uint8Array(readFileSync(file));
const passes = Math.max(1, Number(passesArg));
const chunk = Math.max(1, Number(chunkArg));

const seconds: number[] = [];
const cpuSeconds: number[] = [];
let frames = 0;
let discardedBytes = 0;
let decodeErrors = 0;
let checksum = 0;
let crcBytes = 0;
let startsTried = 0;
for (let p = 0; p < passes; p++) {
  const decoder = new FrameDecoder();
  let acc = 0;
  let errors = 0;
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let off = 0; off < stream.length; off += chunk) {
    for (const ev of decoder.push(stream.subarray(off, off + chunk))) {
      if (ev.kind !== "frame" || mode !== "bms") continue;
      try {
        const b = decodeBmsValues(ev.payload);
        acc += b.packVoltage;
        acc += b.current;
        for (const c of b.cells) acc += c;
        for (const t of b.temperatures) acc += t;
        acc += b.icTemperature;
        if (b.soc !== undefined) acc += b.soc;
      } catch (e) {
        if (!isProtocolError(e)) throw e;
        errors++;
      }
    }
  }
  seconds.push(Number(process.hrtime.bigint() - t0) / 1e9);
  const cpu = process.cpuUsage(c0);
  cpuSeconds.push((cpu.user + cpu.system) / 1e6);
  frames = decoder.stats.framesDecoded;
  discardedBytes = decoder.stats.bytesDiscarded + decoder.pendingBytes;
  decodeErrors = errors;
  checksum = acc;
  crcBytes = decoder.stats.work.crcBytes;
  startsTried = decoder.stats.work.startsTried;
}
process.stdout.write(
  `${JSON.stringify({ bytes: stream.length, frames, discardedBytes, decodeErrors, checksum, crcBytes, startsTried, seconds, cpuSeconds })}\n`,
);
