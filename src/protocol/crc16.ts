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

// T1..T3[i] = TABLE[i] followed by 1..3 zero bytes: four bytes per step ("slicing by 4").
const T1 = TABLE.map((c) => ((TABLE[c >> 8] as number) ^ (c << 8)) & 0xffff);
const T2 = T1.map((c) => ((TABLE[c >> 8] as number) ^ (c << 8)) & 0xffff);
const T3 = T2.map((c) => ((TABLE[c >> 8] as number) ^ (c << 8)) & 0xffff);

/** CRC over bytes[start, end). Defaults cover the whole array. */
export function crc16(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = 0;
  let i = start;
  // Indexes are in range by construction; the casts keep the hot loops free of checks.
  for (const last = end - 3; i < last; i += 4) {
    crc =
      (T3[(crc >> 8) ^ (bytes[i] as number)] as number) ^
      (T2[(crc & 0xff) ^ (bytes[i + 1] as number)] as number) ^
      (T1[bytes[i + 2] as number] as number) ^
      (TABLE[bytes[i + 3] as number] as number);
  }
  for (; i < end; i++) {
    crc = ((TABLE[((crc >> 8) ^ (bytes[i] as number)) & 0xff] as number) ^ (crc << 8)) & 0xffff;
  }
  return crc;
}

/** The CRC register after one more byte. */
export function crc16Step(crc: number, byte: number): number {
  return ((TABLE[((crc >> 8) ^ byte) & 0xff] as number) ^ (crc << 8)) & 0xffff;
}

/** a·b mod the CRC polynomial (carry-less, 16-bit). */
function mulMod(a: number, b: number): number {
  let r = 0;
  for (let bit = 0x8000; bit !== 0; bit >>= 1) {
    r = r & 0x8000 ? ((r << 1) ^ 0x1021) & 0xffff : (r << 1) & 0xffff;
    if (b & bit) r ^= a;
  }
  return r;
}

// x^(8n) mod poly for n = lo + 4096·hi, built on first use.
const POW_LO = new Uint16Array(4096);
const POW_HI = new Uint16Array(4097);
let powReady = false;

function buildPowers(): void {
  POW_LO[0] = 1;
  for (let n = 1; n < 4096; n++) POW_LO[n] = crc16Step(POW_LO[n - 1] as number, 0);
  const step = crc16Step(POW_LO[4095] as number, 0); // x^(8·4096)
  POW_HI[0] = 1;
  for (let n = 1; n < POW_HI.length; n++) POW_HI[n] = mulMod(POW_HI[n - 1] as number, step);
  powReady = true;
}

/**
 * The CRC of `n` zero bytes appended to data whose CRC is `crc` (n < 2^24). Since
 * crc(A‖B) = shift(crc(A), |B|) ⊕ crc(B), prefix CRCs give the CRC of any range in O(1).
 */
export function crc16Shift(crc: number, n: number): number {
  if (!powReady) buildPowers();
  const lo = mulMod(crc, POW_LO[n & 4095] as number);
  return n < 4096 ? lo : mulMod(lo, POW_HI[n >>> 12] as number);
}
