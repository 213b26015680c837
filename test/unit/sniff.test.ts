import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SNIFF_HEAD_BYTES, SNIFFED_TYPES, sniffContentType, zipEntryNames } from '#lib/supervision/sniff.ts';

/** CRC-32 (IEEE), for well-formed test archives. */
function crc32(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

interface Entry {
  name: string;
  data: string | Uint8Array;
  deflate?: boolean;
  /** Sizes after the data in a data descriptor (general purpose flag bit 3), as streaming writers do. */
  descriptor?: boolean;
}

/** A complete ZIP archive: local headers, data, central directory, end record. */
function zip(entries: Entry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const raw = typeof entry.data === 'string' ? Buffer.from(entry.data, 'utf8') : Buffer.from(entry.data);
    const body = entry.deflate ? deflateRawSync(raw) : raw;
    const crc = crc32(raw);
    const flags = (entry.descriptor ? 0x0008 : 0) | 0x0800;
    const method = entry.deflate ? 8 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(entry.descriptor ? 0 : crc, 14);
    local.writeUInt32LE(entry.descriptor ? 0 : body.length, 18);
    local.writeUInt32LE(entry.descriptor ? 0 : raw.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const parts = [local, name, body];
    if (entry.descriptor) {
      const descriptor = Buffer.alloc(16);
      descriptor.writeUInt32LE(0x08074b50, 0);
      descriptor.writeUInt32LE(crc, 4);
      descriptor.writeUInt32LE(body.length, 8);
      descriptor.writeUInt32LE(raw.length, 12);
      parts.push(descriptor);
    }
    const localRecord = Buffer.concat(parts);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(raw.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(Buffer.concat([central, name]));
    locals.push(localRecord);
    offset += localRecord.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const CONTENT_TYPES_XML =
  '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>';
const RELS = '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"/>';

function docx(options: { deflate?: boolean; descriptor?: boolean } = {}): Buffer {
  return zip([
    { name: '[Content_Types].xml', data: CONTENT_TYPES_XML, ...options },
    { name: '_rels/.rels', data: RELS, ...options },
    {
      name: 'word/document.xml',
      data: '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>',
      ...options,
    },
  ]);
}

function xlsx(): Buffer {
  return zip([
    { name: '[Content_Types].xml', data: CONTENT_TYPES_XML, deflate: true },
    { name: '_rels/.rels', data: RELS, deflate: true },
    { name: 'xl/workbook.xml', data: '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>', deflate: true },
    { name: 'xl/worksheets/sheet1.xml', data: '<worksheet/>', deflate: true },
  ]);
}

const PDF = Buffer.from('%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n');
const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.from('0000000d49484452000000010000000108060000001f15c489', 'hex'),
]);
const JPEG = Buffer.from('ffd8ffe000104a46494600010100000100010000ffd9', 'hex');

describe('sniffContentType', () => {
  it('reads a little more than enough: 64 KiB', () => {
    expect(SNIFF_HEAD_BYTES).toBe(65536);
  });

  it('knows PDF, PNG and JPEG by their signatures', () => {
    expect(sniffContentType(PDF)).toBe('application/pdf');
    expect(sniffContentType(PNG)).toBe('image/png');
    expect(sniffContentType(JPEG)).toBe('image/jpeg');
  });

  it('tells a DOCX from a plain ZIP by its word/ entry, stored or deflated', () => {
    expect(sniffContentType(docx())).toBe(SNIFFED_TYPES.docx);
    expect(sniffContentType(docx({ deflate: true }))).toBe(SNIFFED_TYPES.docx);
    expect(zipEntryNames(docx({ deflate: true }))).toEqual(['[Content_Types].xml', '_rels/.rels', 'word/document.xml']);
  });

  it('walks entries whose sizes follow the data (data descriptors)', () => {
    const archive = docx({ deflate: true, descriptor: true });
    expect(zipEntryNames(archive)).toEqual(['[Content_Types].xml', '_rels/.rels', 'word/document.xml']);
    expect(sniffContentType(archive)).toBe(SNIFFED_TYPES.docx);
  });

  it('tells an XLSX by its xl/ entries', () => {
    expect(sniffContentType(xlsx())).toBe(SNIFFED_TYPES.xlsx);
  });

  it('a ZIP with [Content_Types].xml alone, or with other entries, is a plain ZIP', () => {
    expect(sniffContentType(zip([{ name: '[Content_Types].xml', data: CONTENT_TYPES_XML }]))).toBe('application/zip');
    expect(
      sniffContentType(
        zip([
          { name: 'report/word/notes.txt', data: 'x' },
          { name: 'readme.txt', data: 'hello', deflate: true },
        ]),
      ),
    ).toBe('application/zip');
    // Both word/ and xl/ at the top: not an Office file we can name.
    expect(
      sniffContentType(
        zip([
          { name: 'word/document.xml', data: 'a' },
          { name: 'xl/workbook.xml', data: 'b' },
        ]),
      ),
    ).toBe('application/zip');
  });

  it('an empty archive (end record only) is a ZIP', () => {
    const empty = zip([]);
    expect(empty).toHaveLength(22);
    expect(sniffContentType(empty)).toBe('application/zip');
  });

  it('judges a long archive on the entries within the head', () => {
    const big = new Uint8Array(200 * 1024).map((_, i) => (i * 7919) & 0xff);
    const archive = zip([
      { name: '[Content_Types].xml', data: CONTENT_TYPES_XML },
      { name: 'word/document.xml', data: '<w:document/>' },
      { name: 'word/media/image1.bin', data: big },
    ]);
    expect(sniffContentType(archive.subarray(0, SNIFF_HEAD_BYTES))).toBe(SNIFFED_TYPES.docx);
    // The word/ entry beyond the head is not seen: a ZIP.
    const late = zip([
      { name: 'media/big.bin', data: big },
      { name: 'word/document.xml', data: '<w:document/>' },
    ]);
    expect(sniffContentType(late)).toBe(SNIFFED_TYPES.docx);
    expect(sniffContentType(late.subarray(0, SNIFF_HEAD_BYTES))).toBe('application/zip');
  });

  describe('hostile and broken input', () => {
    it('empty or short input is nothing', () => {
      expect(sniffContentType(new Uint8Array(0))).toBeUndefined();
      expect(sniffContentType(Buffer.from('%PD'))).toBeUndefined();
      expect(sniffContentType(Buffer.from([0x89, 0x50, 0x4e]))).toBeUndefined();
      expect(sniffContentType(Buffer.from([0xff, 0xd8]))).toBeUndefined();
      expect(sniffContentType(Buffer.from('PK'))).toBeUndefined();
    });

    it('other formats are nothing', () => {
      expect(sniffContentType(Buffer.from('<html><script>alert(1)</script></html>'))).toBeUndefined();
      expect(sniffContentType(Buffer.from('MZ\x90\x00'))).toBeUndefined(); // a Windows executable
      expect(sniffContentType(Buffer.from('d0cf11e0a1b11ae1', 'hex'))).toBeUndefined(); // an old .doc
      expect(sniffContentType(Buffer.from(' %PDF-1.7'))).toBeUndefined(); // the signature must open the file
      expect(sniffContentType(Buffer.from('GIF89a'))).toBeUndefined();
    });

    it('a ZIP cut inside its first local header is still a ZIP, with no entries', () => {
      const archive = docx();
      for (const cut of [4, 10, 29, 30, 40]) {
        expect(zipEntryNames(archive.subarray(0, cut))).toEqual([]);
        expect(sniffContentType(archive.subarray(0, cut))).toBe('application/zip');
      }
    });

    it('a ZIP cut inside the word/ entry name does not see it', () => {
      const archive = docx();
      const at = archive.indexOf('word/document.xml');
      expect(sniffContentType(archive.subarray(0, at + 3))).toBe('application/zip');
      expect(sniffContentType(archive.subarray(0, at + 'word/document.xml'.length))).toBe(SNIFFED_TYPES.docx);
    });

    it('a name length running past the input stops the walk', () => {
      const archive = docx();
      const header = Buffer.from(archive);
      header.writeUInt16LE(0xffff, 26);
      expect(zipEntryNames(header)).toEqual([]);
      expect(sniffContentType(header)).toBe('application/zip');
      const extra = Buffer.from(archive);
      extra.writeUInt16LE(0xffff, 28);
      expect(sniffContentType(extra)).toBe('application/zip');
    });

    it('a compressed size pointing past the input or at garbage stops the walk', () => {
      const huge = Buffer.from(docx());
      huge.writeUInt32LE(0x7fffffff, 18);
      expect(zipEntryNames(huge)).toEqual(['[Content_Types].xml']);
      const garbage = Buffer.from(docx());
      garbage.writeUInt32LE(3, 18);
      expect(zipEntryNames(garbage)).toEqual(['[Content_Types].xml']);
    });

    it('a descriptor entry with no further header ends the walk', () => {
      const archive = zip([{ name: 'readme.txt', data: 'no more', descriptor: true }]);
      const onlyLocal = archive.subarray(0, 30 + 'readme.txt'.length + 7 + 16);
      expect(zipEntryNames(onlyLocal)).toEqual(['readme.txt']);
    });

    it('many empty entries are bounded', () => {
      const entries = Array.from({ length: 5000 }, (_, i) => ({ name: `e${i}`, data: '' }));
      const names = zipEntryNames(zip(entries));
      expect(names.length).toBe(4096);
    });

    it('random bytes after a ZIP signature never throw', () => {
      let seed = 42;
      const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
      for (let run = 0; run < 500; run++) {
        const bytes = new Uint8Array(next() % 300).map(() => next() & 0xff);
        bytes.set([0x50, 0x4b, 0x03, 0x04].slice(0, bytes.length));
        expect(() => sniffContentType(bytes)).not.toThrow();
      }
    });
  });
});
