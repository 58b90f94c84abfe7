/**
 * Firmware versions as the simulator compares them: major.minor → one number (6.05 → 605),
 * the minor being two decimal digits as in `#define FW_VERSION_MINOR 05`.
 */
export interface Firmware {
  readonly major: number;
  readonly minor: number;
}

/** 6.05 → 605. */
export const fwNumber = (fw: Firmware): number => fw.major * 100 + fw.minor;
