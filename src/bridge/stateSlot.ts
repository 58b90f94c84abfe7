/**
 * The newest state payload of one MQTT topic, kept for a republish (reconnect, HA birth) and
 * for publish_on_change, as UTF-8 bytes in two buffers that are reused reading after reading.
 * Kept as a string, each device's payload lived a second, outlived a young-generation GC and
 * was promoted: at fleet scale a kilobyte per device per second of old-generation garbage and
 * the major GCs that come with it. The buffers' memory is outside the JS heap and never moves.
 */
import type { StateDoc } from "../mqtt/state.js";

/** Room for a payload that grew a little, so the buffers are not replaced at every change. */
const HEADROOM = 256;

export class StateSlot {
  #current: Buffer = Buffer.alloc(0);
  #spare: Buffer = Buffer.alloc(0);
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
    let spare = this.#spare;
    let n = spare.write(doc.payload);
    if (n === spare.length) {
      // Full: possibly cut short. Sized to the whole payload (write never splits a character).
      const bytes = Buffer.byteLength(doc.payload);
      if (bytes >= spare.length) {
        spare = Buffer.allocUnsafeSlow(bytes + HEADROOM);
        n = spare.write(doc.payload);
      }
    }
    // Outside the key is ASCII: character offsets from either end are byte offsets.
    const keyStart = doc.keyStart;
    const keyEnd = n - (doc.payload.length - doc.keyEnd);
    const same =
      this.#length > 0 &&
      keyEnd - keyStart === this.#keyEnd - this.#keyStart &&
      spare.compare(this.#current, this.#keyStart, this.#keyEnd, keyStart, keyEnd) === 0;
    this.#spare = this.#current;
    this.#current = spare;
    this.#length = n;
    this.#keyStart = keyStart;
    this.#keyEnd = keyEnd;
    return same;
  }

  /** The newest payload (a new string: only a republish asks for it). */
  get payload(): string | undefined {
    return this.#length > 0 ? this.#current.toString("utf8", 0, this.#length) : undefined;
  }
}
