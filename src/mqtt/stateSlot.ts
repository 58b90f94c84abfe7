/**
 * The newest state payload of one MQTT topic (for a republish and publish_on_change) as UTF-8
 * bytes in a buffer reused reading after reading: off the JS heap, so never promoted
 * (docs/performance.md, "Bridge heap").
 */
import type { StateDoc } from "./state.js";

/** Room for a payload that grew a little, so the buffers are not replaced at every change. */
const HEADROOM = 256;

/**
 * Where a new payload is encoded before it is compared with the one held: one for the whole
 * process (use is synchronous), so each slot needs only its own buffer.
 */
let scratch: Buffer = Buffer.alloc(0);

export class StateSlot {
  #bytes: Buffer = Buffer.alloc(0);
  #length = 0;
  #keyStart = 0;
  #keyEnd = 0;
  /** Date.now() of the last publish that went out. */
  sentAt = 0;
  /** The payload held was not sent (disconnected, congested): the next one goes out whatever it holds. */
  unsent = true;

  /**
   * Keeps `doc` as the newest payload. True when its change key equals that of the payload it
   * replaces (byte for byte), false when it differs or there was none.
   */
  replace(doc: StateDoc): boolean {
    let n = scratch.write(doc.payload);
    if (n === scratch.length) {
      // Full: possibly cut short. Sized to the whole payload (write never splits a character).
      const bytes = Buffer.byteLength(doc.payload);
      if (bytes >= scratch.length) {
        scratch = Buffer.allocUnsafeSlow(bytes + HEADROOM);
        n = scratch.write(doc.payload);
      }
    }
    // Outside the key is ASCII: character offsets from either end are byte offsets.
    const keyStart = doc.keyStart;
    const keyEnd = n - (doc.payload.length - doc.keyEnd);
    const same =
      this.#length > 0 &&
      keyEnd - keyStart === this.#keyEnd - this.#keyStart &&
      scratch.compare(this.#bytes, this.#keyStart, this.#keyEnd, keyStart, keyEnd) === 0;
    if (n > this.#bytes.length) this.#bytes = Buffer.allocUnsafeSlow(n + HEADROOM);
    scratch.copy(this.#bytes, 0, 0, n);
    this.#length = n;
    this.#keyStart = keyStart;
    this.#keyEnd = keyEnd;
    return same;
  }

  /** The newest payload (a new string: only a republish asks for it). */
  get payload(): string | undefined {
    return this.#length > 0 ? this.#bytes.toString("utf8", 0, this.#length) : undefined;
  }
}
