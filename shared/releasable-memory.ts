/**
 * ArrayBuffers whose memory goes back to the system when they are collected, for large buffers
 * that die before the night's peak (the order lines' hashes, the RFM measures' columns).
 *
 * A plain ArrayBuffer comes from malloc, and glibc keeps freed memory in the process once it has
 * raised its mmap threshold (freeing a mapped block raises it to that block's size, up to 32 MB):
 * at 1M clients, ~75 MB of line hashes freed at the end of the read stayed resident through the
 * profiles' pass. V8 maps the memory of a resizable ArrayBuffer itself and unmaps it when the
 * buffer is freed. The size is fixed here (maxByteLength = byteLength): only that path matters.
 */

/** ES2024's ArrayBuffer constructor with options, which Node 24 has (the project's lib is ES2022). */
const ResizableArrayBuffer = ArrayBuffer as unknown as new (bytes: number, options: { maxByteLength: number }) => ArrayBuffer;

export function releasableArrayBuffer(bytes: number): ArrayBuffer {
  return new ResizableArrayBuffer(bytes, { maxByteLength: bytes });
}

/** A Float64Array of `length` zeros in releasable memory. */
export function releasableFloat64Array(length: number): Float64Array {
  return new Float64Array(releasableArrayBuffer(length * 8), 0, length);
}
