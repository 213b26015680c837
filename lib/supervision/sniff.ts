/**
 * Content sniffing for uploaded delivery proofs: what a file really is, from its first bytes, whatever its name
 * or declared type says. Knows the proof allow-list's formats: PDF, PNG, JPEG, ZIP, and the two Office Open XML
 * formats that are ZIP archives (DOCX: an entry under `word/`; XLSX: an entry under `xl/`).
 */

/** How many leading bytes callers should read (an S3 ranged GET of `bytes=0-65535`). */
export const SNIFF_HEAD_BYTES = 64 * 1024;

export const SNIFFED_TYPES = {
  pdf: 'application/pdf',
  png: 'image/png',
  jpeg: 'image/jpeg',
  zip: 'application/zip',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const PDF_SIGNATURE = [0x25, 0x50, 0x44, 0x46, 0x2d]; // %PDF-
const JPEG_SIGNATURE = [0xff, 0xd8, 0xff];
const ZIP_LOCAL_HEADER = 0x04034b50; // PK\x03\x04
const ZIP_END_OF_CENTRAL_DIRECTORY = 0x06054b50; // PK\x05\x06, an empty archive starts with it
const LOCAL_HEADER_BYTES = 30;
/** Enough for any real Office file's first entries; bounds the work a hostile archive can cause. */
const MAX_ENTRIES = 4096;

function startsWith(head: Uint8Array, signature: readonly number[]): boolean {
  return head.length >= signature.length && signature.every((byte, i) => head[i] === byte);
}

function u16(head: Uint8Array, at: number): number {
  return head[at]! | (head[at + 1]! << 8);
}

function u32(head: Uint8Array, at: number): number {
  return (head[at]! | (head[at + 1]! << 8) | (head[at + 2]! << 16) | (head[at + 3]! << 24)) >>> 0;
}

/** The next local file header signature at or after `from`, or -1. */
function findLocalHeader(head: Uint8Array, from: number): number {
  for (let i = from; i + 4 <= head.length; i++) {
    if (head[i] === 0x50 && head[i + 1] === 0x4b && head[i + 2] === 0x03 && head[i + 3] === 0x04) return i;
  }
  return -1;
}

/** Names of the ZIP entries whose local headers lie wholly inside `head`, in order; stops at the first truncated one. */
export function zipEntryNames(head: Uint8Array): string[] {
  const names: string[] = [];
  const decoder = new TextDecoder('utf-8', { fatal: false });
  let offset = 0;
  while (names.length < MAX_ENTRIES && offset + LOCAL_HEADER_BYTES <= head.length && u32(head, offset) === ZIP_LOCAL_HEADER) {
    const flags = u16(head, offset + 6);
    const compressedSize = u32(head, offset + 18);
    const nameLength = u16(head, offset + 26);
    const extraLength = u16(head, offset + 28);
    const nameStart = offset + LOCAL_HEADER_BYTES;
    const dataStart = nameStart + nameLength + extraLength;
    if (dataStart > head.length) break;
    names.push(decoder.decode(head.subarray(nameStart, nameStart + nameLength)));
    // Sizes follow the data (bit 3) or live in a ZIP64 extra field: find the next header by its signature.
    const sizeUnknown = (flags & 0x0008) !== 0 || compressedSize === 0xffffffff;
    const next = sizeUnknown ? findLocalHeader(head, dataStart) : dataStart + compressedSize;
    if (next < 0 || next <= offset) break;
    offset = next;
  }
  return names;
}

/** What a ZIP archive is, from the entries whose headers are in `head`. */
function zipFlavour(head: Uint8Array): string {
  const names = zipEntryNames(head);
  const word = names.some((name) => name.startsWith('word/'));
  const excel = names.some((name) => name.startsWith('xl/'));
  if (word && !excel) return SNIFFED_TYPES.docx;
  if (excel && !word) return SNIFFED_TYPES.xlsx;
  return SNIFFED_TYPES.zip;
}

/**
 * The content type of a file from its first bytes (up to SNIFF_HEAD_BYTES), or undefined when it is none of the
 * known formats. A ZIP whose entries are not all within `head` is judged on those that are: an Office file's
 * `word/` or `xl/` entries come within its first few kilobytes.
 */
export function sniffContentType(head: Uint8Array): string | undefined {
  if (startsWith(head, PDF_SIGNATURE)) return SNIFFED_TYPES.pdf;
  if (startsWith(head, PNG_SIGNATURE)) return SNIFFED_TYPES.png;
  if (startsWith(head, JPEG_SIGNATURE)) return SNIFFED_TYPES.jpeg;
  if (head.length >= 4 && u32(head, 0) === ZIP_LOCAL_HEADER) return zipFlavour(head);
  if (head.length >= 4 && u32(head, 0) === ZIP_END_OF_CENTRAL_DIRECTORY) return SNIFFED_TYPES.zip;
  return undefined;
}
