/**
 * Splits a byte stream into text lines as it arrives, holding at most one chunk and one partial
 * line. Each line is cut from its decoded chunk only when the consumer asks for it: lines do not
 * wait in a queue (as readline's do), where thousands of them would outlive a young-generation
 * garbage collection or two and be copied each time.
 */
export async function* linesOf(stream: AsyncIterable<Uint8Array> | ReadableStream<Uint8Array>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of stream as AsyncIterable<Uint8Array>) {
    const text = pending + decoder.decode(chunk, { stream: true });
    let start = 0;
    let newline = text.indexOf('\n');
    while (newline >= 0) {
      yield lineOf(text, start, newline);
      start = newline + 1;
      newline = text.indexOf('\n', start);
    }
    pending = text.slice(start);
  }
  pending += decoder.decode();
  if (pending) yield lineOf(pending, 0, pending.length);
}

/** text[start, end) without a trailing carriage return (CRLF files). */
const lineOf = (text: string, start: number, end: number) =>
  text.slice(start, end > start && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
