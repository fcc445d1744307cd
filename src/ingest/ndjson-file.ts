import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { once } from 'node:events';
import { linesOf } from './lines.ts';

export interface NdjsonFile {
  /** The file's lines, read as they are consumed: memory stays flat whatever the file size. */
  lines: AsyncIterable<string>;
  /** File size in bytes. */
  size: number;
  /** Bytes read from the file so far (a chunk ahead of the line consumed, at most). */
  bytesRead(): number;
}

export async function openNdjsonFile(path: string): Promise<NdjsonFile> {
  const { size } = await stat(path);
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  return { lines: linesOf(stream), size, bytesRead: () => stream.bytesRead };
}

/** Writes a file line by line, in chunks, waiting whenever the stream's buffer is full. */
export class LineWriter {
  private chunk: string[] = [];
  private readonly stream: WriteStream;
  lines = 0;

  constructor(readonly path: string) {
    this.stream = createWriteStream(path);
  }

  async add(line: string) {
    this.chunk.push(line);
    this.lines++;
    if (this.chunk.length >= 1000) await this.flush();
  }

  async close() {
    await this.flush();
    this.stream.end();
    await once(this.stream, 'close');
  }

  private async flush() {
    if (!this.chunk.length) return;
    const text = this.chunk.join('\n') + '\n';
    this.chunk = [];
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }
}

/** Writes lines to a file, one per line. Returns the number written. */
export async function writeNdjsonFile(path: string, lines: Iterable<string>): Promise<number> {
  const out = new LineWriter(path);
  try {
    for (const line of lines) await out.add(line);
  } finally {
    await out.close();
  }
  return out.lines;
}

/** Adapts a synchronous iterable (e.g. generated lines) to the importer's AsyncIterable. */
export async function* asAsync<T>(items: Iterable<T>): AsyncIterable<T> {
  yield* items;
}
