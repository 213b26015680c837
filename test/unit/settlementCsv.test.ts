import { describe, expect, it } from 'vitest';
import { csvCell, STATEMENT_COLUMNS, STATEMENT_CSV_HEADER, statementCsvRow, statementJsonLine } from '#lib/settlement/csv.ts';
import type { StatementLine } from '#lib/settlement/model.ts';
import { parseCsvRecords } from '#lib/settlement/billComparison.ts';

/** Statement files: CSV rows and JSON Lines in a fixed column order, safe to open in a spreadsheet. */

const refund: StatementLine = {
  lineId: 'REFUND:O1:O1-1',
  kind: 'REFUND',
  orderKind: 'NEW',
  orderId: 'O1',
  orderLineId: 'O1-1',
  refundOrderId: 'R1',
  instanceId: 'I1',
  productId: 'P1',
  currency: 'CNY',
  adjustmentFor: '2026-03',
  at: '2026-04-10T00:00:00Z',
  gross: '-40.00',
  fee: '-6.00',
  tax: '-2.04',
  net: '-31.96',
};

const usage: StatementLine = {
  lineId: 'USAGE:IU',
  kind: 'USAGE',
  instanceId: 'IU',
  productId: 'U1',
  currency: 'CNY',
  quantity: '1234.5',
  unit: 'GB',
  unitPrice: '0.0125',
  at: '2026-02-28T16:00:00.000Z',
  gross: '15.43',
  fee: '3.09',
  tax: '0.74',
  net: '11.60',
};

describe('STATEMENT_CSV_HEADER', () => {
  it('is one CRLF-terminated line naming the columns in order', () => {
    expect(STATEMENT_CSV_HEADER).toBe(
      'lineId,kind,orderKind,orderId,orderLineId,refundOrderId,instanceId,productId,adjustmentFor,at,serviceFrom,currency,quantity,unit,unitPrice,gross,fee,tax,net\r\n',
    );
  });
});

describe('statementCsvRow', () => {
  it('writes every column in order, negative amounts as plain numbers', () => {
    expect(statementCsvRow(refund)).toBe(
      'REFUND:O1:O1-1,REFUND,NEW,O1,O1-1,R1,I1,P1,2026-03,2026-04-10T00:00:00Z,,CNY,,,,-40.00,-6.00,-2.04,-31.96\r\n',
    );
  });

  it('leaves absent fields empty', () => {
    expect(statementCsvRow(usage)).toBe(
      'USAGE:IU,USAGE,,,,,IU,U1,,2026-02-28T16:00:00.000Z,,CNY,1234.5,GB,0.0125,15.43,3.09,0.74,11.60\r\n',
    );
  });

  it('quotes commas, quotes and line breaks (RFC 4180)', () => {
    const row = statementCsvRow({ ...usage, productId: 'a,b', unit: 'say "hi"', instanceId: 'x\r\ny' });
    expect(row).toBe(
      'USAGE:IU,USAGE,,,,,"x\r\ny","a,b",,2026-02-28T16:00:00.000Z,,CNY,1234.5,"say ""hi""",0.0125,15.43,3.09,0.74,11.60\r\n',
    );
  });

  it.each([
    ['=', '=HYPERLINK("http://x")', `"'=HYPERLINK(""http://x"")"`],
    ['+', '+1', "'+1"],
    ['-', '-2+3', "'-2+3"],
    ['@', '@SUM(A1)', "'@SUM(A1)"],
    ['a tab', '\tcmd', "'\tcmd"],
    ['a carriage return', '\rcmd', `"'\rcmd"`],
  ])('defuses a text cell starting with %s', (_, value, cell) => {
    expect(csvCell(value)).toBe(cell);
    expect(parseCsvRecords(statementCsvRow({ ...usage, productId: value }))[0]?.[7]).toBe(`'${value}`);
  });

  it('defuses a non-numeric value in a numeric column', () => {
    expect(csvCell('-1+1', true)).toBe("'-1+1");
    expect(csvCell('-1.50', true)).toBe('-1.50');
    expect(csvCell('-1.50', false)).toBe("'-1.50");
  });

  it('reads back as the same cells', () => {
    const text = STATEMENT_CSV_HEADER + statementCsvRow(refund) + statementCsvRow({ ...usage, productId: 'a,"b"\nc' });
    const [header, first, second] = parseCsvRecords(text);
    expect(header).toStrictEqual([...STATEMENT_COLUMNS]);
    expect(first).toStrictEqual(STATEMENT_COLUMNS.map((c) => refund[c] ?? ''));
    expect(second?.[7]).toBe('a,"b"\nc');
  });

  it('depends only on the line, not on the order of its keys', () => {
    const shuffled = Object.fromEntries(Object.entries(refund).reverse()) as unknown as StatementLine;
    expect(statementCsvRow(shuffled)).toBe(statementCsvRow(refund));
    expect(statementJsonLine(shuffled)).toBe(statementJsonLine(refund));
  });
});

describe('statementJsonLine', () => {
  it('writes the keys in column order, leaves absent fields out and ends with LF', () => {
    expect(statementJsonLine(usage)).toBe(
      '{"lineId":"USAGE:IU","kind":"USAGE","instanceId":"IU","productId":"U1","at":"2026-02-28T16:00:00.000Z","currency":"CNY","quantity":"1234.5","unit":"GB","unitPrice":"0.0125","gross":"15.43","fee":"3.09","tax":"0.74","net":"11.60"}\n',
    );
    expect(JSON.parse(statementJsonLine(refund))).toStrictEqual(refund);
  });

  it('keeps amounts as strings (no floats)', () => {
    expect(JSON.parse(statementJsonLine(refund)).net).toBe('-31.96');
  });
});
