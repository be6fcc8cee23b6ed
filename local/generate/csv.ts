import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

/** RFC 4180: quote a field holding a comma, quote or line break; double inner quotes. */
export function csvField(value: string): string {
  if (!/[",\r\n]/.test(value)) return value;
  return `"${value.replace(/"/g, '""')}"`;
}

export function csvRow(fields: readonly string[]): string {
  let out = '';
  for (let i = 0; i < fields.length; i++) {
    if (i > 0) out += ',';
    out += csvField(fields[i] ?? '');
  }
  return `${out}\n`;
}

const FLUSH_BYTES = 256 * 1024;

/**
 * A CSV file written through a stream with backpressure: rows collect in a small buffer that is
 * handed to the stream every ~256 KB, and flush() waits for 'drain' when the stream (or gzip)
 * is behind, so memory stays bounded however large the export.
 */
export class CsvSink {
  // A growing string (V8 keeps it as a rope until written): cheaper than an array + join.
  private buffer = '';
  private readonly target: Writable;
  private readonly done: Promise<void>;
  /** Rejects when the stream fails; never resolves. */
  private readonly failed: Promise<never>;

  constructor(path: string, gzip: boolean) {
    const file = createWriteStream(path);
    if (gzip) {
      // Fixed level; node writes no file name and a zero mtime, so the bytes are reproducible.
      const gz = createGzip({ level: 6 });
      this.target = gz;
      this.done = pipeline(gz, file);
    } else {
      this.target = file;
      this.done = finished(file);
    }
    this.failed = new Promise<never>((_, reject) => {
      this.done.catch(reject);
    });
    // Surfaced by flush()/close(); this only keeps an early failure from being "unhandled".
    this.failed.catch(() => undefined);
  }

  row(fields: readonly string[]): void {
    this.buffer += csvRow(fields);
  }

  /** Ready-made CSV lines (each ending in a newline). */
  text(lines: string): void {
    this.buffer += lines;
  }

  /** Writes the buffer out if it is large enough (or always, with force), honouring backpressure. */
  async flush(force = false): Promise<void> {
    if (this.buffer.length === 0 || (!force && this.buffer.length < FLUSH_BYTES)) return;
    const chunk = this.buffer;
    this.buffer = '';
    if (!this.target.write(chunk)) {
      await Promise.race([once(this.target, 'drain'), this.failed]);
    }
  }

  /** Abandons the file (after an error elsewhere). */
  destroy(): void {
    this.target.destroy();
  }

  async close(): Promise<void> {
    await this.flush(true);
    this.target.end();
    await this.done;
  }
}
