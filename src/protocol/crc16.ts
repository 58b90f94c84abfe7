/**
 * CRC-16/XMODEM (poly 0x1021, init 0, no reflection, no final XOR), table-driven exactly
 * like vesc_express `main/crc.c` and vesc_tool `packet.cpp`. Check value for "123456789": 0x31C3.
 */

const TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    table[i] = crc;
  }
  return table;
})();

/** CRC over bytes[start, end). Defaults cover the whole array. */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  for (let i = start; i < end; i++) {
    // Both indexes are in range by construction; the casts keep the hot loop free of checks.
    crc = ((TABLE[((crc >> 8) ^ (bytes[i] as number)) & 0xff] as number) ^ (crc << 8)) & 0xffff;
  }
  return crc;
}
