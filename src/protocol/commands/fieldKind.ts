/**
 * The scalar encodings of the bldc mask-selected replies (GET_VALUES, GET_VALUES_SETUP and
 * their SELECTIVE forms, GET_STATS, GET_IMU_DATA): buffer.c float16/float32 with a scale,
 * float32_auto, int32, uint32 and uint8.
 */
import type { ByteReader, ByteWriter } from "../bytes.js";

export type FieldKind =
  | { readonly type: "f16" | "f32"; readonly scale: number }
  | { readonly type: "f32auto" | "i32" | "u32" | "u8" };

export const f16 = (scale: number): FieldKind => ({ type: "f16", scale });
export const f32 = (scale: number): FieldKind => ({ type: "f32", scale });
export const F32_AUTO: FieldKind = { type: "f32auto" };
export const I32: FieldKind = { type: "i32" };
export const U32: FieldKind = { type: "u32" };
export const U8: FieldKind = { type: "u8" };

/** Bytes one value of this kind takes on the wire. */
export function sizeOf(kind: FieldKind): number {
  return kind.type === "f16" ? 2 : kind.type === "u8" ? 1 : 4;
}

export function readField(r: ByteReader, kind: FieldKind, what: string): number {
  switch (kind.type) {
    case "f16":
      return r.float16(kind.scale, what);
    case "f32":
      return r.float32(kind.scale, what);
    case "f32auto":
      return r.float32Auto(what);
    case "i32":
      return r.int32(what);
    case "u32":
      return r.uint32(what);
    case "u8":
      return r.uint8(what);
  }
}

export function writeField(w: ByteWriter, kind: FieldKind, value: number): void {
  switch (kind.type) {
    case "f16":
      w.float16(value, kind.scale);
      return;
    case "f32":
      w.float32(value, kind.scale);
      return;
    case "f32auto":
      w.float32Auto(value);
      return;
    case "i32":
      w.int32(Math.trunc(value));
      return;
    case "u32":
      w.uint32(Math.trunc(value));
      return;
    case "u8":
      w.uint8(value);
      return;
  }
}
