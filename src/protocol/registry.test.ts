import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hex } from "../../test/helpers/hex.js";
import { isProtocolError } from "./errors.js";
import { decodeReply, KNOWN_REPLY_IDS, tryDecodeReply } from "./registry.js";

describe("decodeReply", () => {
  it("tags known replies and prints", () => {
    expect(decodeReply(hex("3e 54 55"))).toEqual({ kind: "pingCan", value: [84, 85] });
    expect(decodeReply(hex("15 68 69 00"))).toEqual({ kind: "print", value: "hi" });
    expect(decodeReply(hex("87 6c 69 73 70"))).toEqual({ kind: "print", value: "lisp" });
  });

  it("decodes unknown ids to `unknown`, never throws", () => {
    expect(decodeReply(hex("99 01 02"))).toEqual({ kind: "unknown", id: 0x99, payload: hex("99 01 02") });
  });

  it("any payload gives a value or a ProtocolError, never another exception, never NaN", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...KNOWN_REPLY_IDS, 7, 200),
        fc.uint8Array({ maxLength: 300 }),
        (id, rest) => {
          const payload = Uint8Array.of(id, ...rest);
          const result = tryDecodeReply(payload);
          if (result.kind === "error") {
            expect(isProtocolError(result.error)).toBe(true);
            return;
          }
          const numbers = JSON.stringify(result, (_k, v) => (v instanceof Uint8Array ? [] : v));
          expect(numbers).not.toContain("NaN");
          expect(numbers).not.toContain("null");
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("an empty payload is a ProtocolError", () => {
    expect(tryDecodeReply(new Uint8Array(0)).kind).toBe("error");
  });
});
