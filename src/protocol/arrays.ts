/**
 * Arrays for the per-frame hot path, sliced from a template: `slice()` allocates without a V8
 * allocation site, so V8 can never pretenure them (docs/performance.md).
 */

const DOUBLES: number[] = new Array<number>(64).fill(0.5);
const BOOLEANS: boolean[] = new Array<boolean>(64).fill(false);
// Holding an object once makes the template's elements "any object", so pushes need no transition.
const OBJECTS: object[] = [{}];
OBJECTS.length = 0;

/** A new packed array of n doubles (contents unspecified: the caller overwrites them all). */
export function doubleArray(n: number): number[] {
  return n <= DOUBLES.length ? DOUBLES.slice(0, n) : new Array<number>(n).fill(0);
}

/** A new packed array of n booleans (contents unspecified: the caller overwrites them all). */
export function booleanArray(n: number): boolean[] {
  return n <= BOOLEANS.length ? BOOLEANS.slice(0, n) : new Array<boolean>(n).fill(false);
}

/** A new empty array for objects. */
export function objectArray<T extends object>(): T[] {
  return OBJECTS.slice() as T[];
}
