/**
 * Splits a byte stream into text lines as it arrives, holding at most one chunk and one partial
 * line. Lines are found in the bytes (a UTF-8 sequence never holds a line feed byte) and each is
 * decoded on its own when the consumer asks for it: ASCII lines then become compact one-byte
 * strings whatever the rest of the chunk holds, and lines do not wait in a queue (as readline's
 * do), where thousands of them would outlive a young-generation garbage collection or two.
 * Invalid UTF-8 decodes to U+FFFD, as TextDecoder does.
 */
export async function* linesOf(stream: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncIterable<string> {
  let partial: Buffer | undefined;
  for await (const bytes of stream as AsyncIterable<Uint8Array>) {
    let chunk = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (partial) {
      chunk = Buffer.concat([partial, chunk]);
      partial = undefined;
    }
    let start = 0;
    let newline = chunk.indexOf(10);
    while (newline >= 0) {
      yield lineOf(chunk, start, newline);
      start = newline + 1;
      newline = chunk.indexOf(10, start);
    }
    if (start < chunk.length) partial = chunk.subarray(start);
  }
  if (partial) yield lineOf(partial, 0, partial.length);
}

/** bytes[start, end) as text, without a trailing carriage return (CRLF files). */
const lineOf = (bytes: Buffer, start: number, end: number) =>
  bytes.toString('utf8', start, end > start && bytes[end - 1] === 13 ? end - 1 : end);
