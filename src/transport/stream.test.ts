/**
 * The stream transport behind TCP and serial, on a plain in-memory Duplex: bytes both ways,
 * `close` exactly once, with an error only when the far end closed, and a local close that
 * completes whether or not the stream still emits its own close event.
 */
import { Duplex } from "node:stream";
import { describe, expect, test } from "vitest";
import { StreamTransport } from "./stream.js";
import { TransportError, isTransportError } from "./transport.js";

function pipeEnd(): { stream: Duplex; written: Buffer[] } {
  const written: Buffer[] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, done) {
      written.push(chunk);
      done();
    },
  });
  return { stream, written };
}

describe("StreamTransport", () => {
  test("bytes in and out; a remote close is reported once, with the last stream error as cause", async () => {
    const { stream, written } = pipeEnd();
    const t = new StreamTransport("test://a", stream, { end: () => stream.destroy() });
    const data: number[] = [];
    const closes: (TransportError | undefined)[] = [];
    t.on("data", (chunk) => data.push(...chunk));
    t.on("close", (e) => closes.push(e));
    await t.write(Uint8Array.of(1, 2, 3));
    expect(Buffer.concat(written)).toEqual(Buffer.from([1, 2, 3]));
    stream.push(Buffer.from([9, 8]));
    await new Promise((r) => setImmediate(r));
    expect(data).toEqual([9, 8]);
    expect(t.bytesReceived).toBe(2);
    stream.destroy(new Error("wire cut"));
    await new Promise((r) => setImmediate(r));
    expect(closes).toHaveLength(1);
    const [error] = closes;
    expect(isTransportError(error) && error.code).toBe("Closed");
    expect((error?.cause as Error | undefined)?.message).toBe("wire cut");
    await expect(t.write(Uint8Array.of(1))).rejects.toThrow(/write on a closed connection/);
    await t.close(); // already closed: resolves at once
    expect(closes).toHaveLength(1);
  });

  test("a local close reports no error, and completes when the stream emits no close event", async () => {
    const { stream } = pipeEnd();
    let ended = 0;
    // Like a serial port unplugged underneath us: closing it emits nothing, the opener says so.
    const t = new StreamTransport("test://b", stream, {
      end: (closed) => {
        ended++;
        closed();
      },
    });
    const closes: (TransportError | undefined)[] = [];
    t.on("close", (e) => closes.push(e));
    await t.close();
    expect(ended).toBe(1);
    expect(closes).toEqual([undefined]);
    stream.destroy(); // a late close event from the stream changes nothing
    await new Promise((r) => setImmediate(r));
    expect(closes).toEqual([undefined]);
  });

  test("the opener maps a remote close to its own error", async () => {
    const { stream } = pipeEnd();
    const t = new StreamTransport("test://c", stream, {
      end: () => stream.destroy(),
      closeError: (self) =>
        new TransportError("LoginRejected", `${self.url}: gone after ${self.bytesReceived} bytes`),
    });
    const closed = new Promise<TransportError | undefined>((r) => t.once("close", r));
    stream.destroy();
    const error = await closed;
    expect(error?.code).toBe("LoginRejected");
    expect(error?.message).toBe("test://c: gone after 0 bytes");
  });
});
