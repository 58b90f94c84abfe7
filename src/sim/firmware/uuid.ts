/** The 12 raw UUID bytes of a FW_VERSION reply, from the 24 hex chars the simulator keeps. */
export function uuidBytes(uuid: string): Uint8Array {
  if (!/^[0-9a-fA-F]{24}$/.test(uuid)) throw new RangeError(`uuid must be 24 hex chars, got "${uuid}"`);
  const out = new Uint8Array(12);
  for (let i = 0; i < 12; i++) out[i] = Number.parseInt(uuid.slice(i * 2, i * 2 + 2), 16);
  return out;
}
