// A minimal protobuf wire-format reader: varints, fixed 32/64-bit values and length-delimited fields.
// Groups (wire types 3 and 4) are not used by Kubernetes and are rejected.

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

export class ProtobufError extends Error {
  override name = 'ProtobufError';
}

export interface WireField {
  field: number;
  wireType: number;
  /** Set for varint fields (the raw unsigned 64-bit value). */
  varint?: bigint;
  /** Set for length-delimited, fixed32 and fixed64 fields. */
  bytes?: Buffer;
}

export class WireReader {
  private pos = 0;

  constructor(private readonly buf: Buffer) {}

  get done(): boolean {
    return this.pos >= this.buf.length;
  }

  varint(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.buf.length) throw new ProtobufError(`truncated varint at offset ${this.pos}`);
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return BigInt.asUintN(64, result);
    }
    throw new ProtobufError(`varint longer than 10 bytes at offset ${this.pos}`);
  }

  private take(n: number): Buffer {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new ProtobufError(`field of ${n} bytes at offset ${this.pos} runs past the end of the message`);
    }
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Reads the next field: its number, wire type and payload. */
  next(): WireField {
    const start = this.pos;
    const key = this.varint();
    const field = Number(key >> 3n);
    const wireType = Number(key & 7n);
    if (field === 0) throw new ProtobufError(`invalid field number 0 at offset ${start}`);
    switch (wireType) {
      case WIRE_VARINT:
        return { field, wireType, varint: this.varint() };
      case WIRE_FIXED64:
        return { field, wireType, bytes: this.take(8) };
      case WIRE_BYTES: {
        const len = this.varint();
        if (len > BigInt(this.buf.length)) {
          throw new ProtobufError(`field ${field} at offset ${start} claims ${len} bytes, more than the message`);
        }
        return { field, wireType, bytes: this.take(Number(len)) };
      }
      case WIRE_FIXED32:
        return { field, wireType, bytes: this.take(4) };
      default:
        throw new ProtobufError(`unsupported wire type ${wireType} for field ${field} at offset ${start}`);
    }
  }
}

/** Every field of a message, in wire order. */
export function readFields(buf: Buffer): WireField[] {
  const r = new WireReader(buf);
  const out: WireField[] = [];
  while (!r.done) out.push(r.next());
  return out;
}
