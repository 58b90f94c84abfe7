/**
 * Arrays for the per-frame hot path, made by slicing a template rather than by a literal or
 * `new Array`. V8 tracks every array/object literal and Array-constructor call site and, when
 * most of what a site made survived a GC, allocates all its later objects straight into the
 * old generation ("allocation-site pretenuring"). A decode site tipped that way by start-up
 * made everything it referenced survive young GCs too: ~9 % of all decoding garbage
 * promoted, a mark-compact every second or so and half the throughput gone, in some runs of
 * bench/decoder.ts and not others. `slice()` of a template allocates without a site, so
 * nothing here can be pretenured; it costs about what a literal or `new Array(n)` does and
 * gives a packed array of the template's element kind in one allocation.
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
