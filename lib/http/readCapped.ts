/**
 * Reads a fetch response's body as UTF-8 text, at most `cap` bytes: a larger body is cut there (and the rest
 * cancelled), so an answer from another system can never exhaust the function's memory.
 */
export async function readCapped(response: Response, cap: number): Promise<{ text: string; tooLarge: boolean }> {
  if (!response.body) return { text: '', tooLarge: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > cap) {
      chunks.push(value.subarray(0, cap - size));
      await reader.cancel().catch(() => {});
      return { text: Buffer.concat(chunks).toString('utf8'), tooLarge: true };
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), tooLarge: false };
}
