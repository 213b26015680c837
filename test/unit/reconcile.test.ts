import { describe, expect, it } from 'vitest';
import type { StatementLine } from '#lib/settlement/model.ts';
import { BillFormatError, DEFAULT_BILL_COLUMNS, parseBillColumns } from '#lib/settlement/billColumns.ts';
import { billRows, parseCsvRecords, reconcile, type BillRow } from '#lib/settlement/billComparison.ts';

/** Reconciliation: the marketplace's bill export (CSV) against our statement. */

describe('parseCsvRecords', () => {
  it('reads plain records with CRLF or LF', () => {
    expect(parseCsvRecords('a,b,c\r\n1,2,3\r\n')).toStrictEqual([
      ['a', 'b', 'c'],
      ['1', '2', '3'],
    ]);
    expect(parseCsvRecords('a,b\n1,2')).toStrictEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
    expect(parseCsvRecords('a,b\r1,2\r')).toStrictEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  it('reads quoted fields with commas, line breaks and doubled quotes', () => {
    expect(parseCsvRecords('"a,1","say ""hi""","two\r\nlines",""\r\nx,"",y')).toStrictEqual([
      ['a,1', 'say "hi"', 'two\r\nlines', ''],
      ['x', '', 'y'],
    ]);
  });

  it('keeps empty fields, including trailing ones', () => {
    expect(parseCsvRecords('a,,\n,b,')).toStrictEqual([
      ['a', '', ''],
      ['', 'b', ''],
    ]);
  });

  it('strips a UTF-8 byte order mark and skips blank lines', () => {
    expect(parseCsvRecords('\uFEFFOrder ID,Amount\r\n\r\nO1,1.00\n\n')).toStrictEqual([
      ['Order ID', 'Amount'],
      ['O1', '1.00'],
    ]);
  });

  it('reads an empty text as no records', () => {
    expect(parseCsvRecords('')).toStrictEqual([]);
    expect(parseCsvRecords('\uFEFF')).toStrictEqual([]);
  });

  it('keeps a line holding only "" as one empty field', () => {
    expect(parseCsvRecords('""\n')).toStrictEqual([['']]);
  });

  it.each([
    ['an unterminated quote', 'a,b\n"c,d\n', 'CSV line 2: a quoted field is never closed'],
    ['text after a closing quote', 'a,"b"c\n', 'CSV line 1: text after the closing quote of a field'],
    ['a quote inside an unquoted field', 'a\nb"c\n', 'CSV line 2: a quote inside an unquoted field'],
  ])('refuses %s with the line number', (_, text, message) => {
    expect(() => parseCsvRecords(text)).toThrow(BillFormatError);
    expect(() => parseCsvRecords(text)).toThrow(message);
  });

  it('counts lines inside quoted fields for its messages', () => {
    expect(() => parseCsvRecords('"a\r\nb"\nx"y')).toThrow('CSV line 3');
  });
});

const HEADER = 'Order ID,Order Line ID,Instance ID,Transaction Type,Currency,Settlement Amount';

describe('billRows', () => {
  it('finds the header under title lines and reads each row', () => {
    const text = `Bill 2026-03\r\nSeller: ACME\r\n${HEADER}\r\nO1,O1-1,I1,Purchase,CNY,79.90\r\nO1,O1-1,I1,Unsubscribe,CNY,-31.96\r\n,,IU,Pay-per-use,CNY,"1,234.50"\r\n`;
    expect(billRows(parseCsvRecords(text), DEFAULT_BILL_COLUMNS)).toStrictEqual({
      rows: [
        { row: 4, orderId: 'O1', orderLineId: 'O1-1', instanceId: 'I1', type: 'Purchase', currency: 'CNY', amount: '79.90' },
        { row: 5, orderId: 'O1', orderLineId: 'O1-1', instanceId: 'I1', type: 'Unsubscribe', currency: 'CNY', amount: '-31.96' },
        { row: 6, orderId: '', orderLineId: '', instanceId: 'IU', type: 'Pay-per-use', currency: 'CNY', amount: '1234.50' },
      ],
      problems: [],
    });
  });

  it('matches header names trimmed and ignoring case, in any column order, optional ones may be absent', () => {
    const text = ' settlement amount ,ORDER LINE ID,order id\n12.3,O1-1,O1\n';
    expect(billRows(parseCsvRecords(text), DEFAULT_BILL_COLUMNS).rows).toStrictEqual([
      { row: 2, orderId: 'O1', orderLineId: 'O1-1', amount: '12.30' },
    ]);
  });

  it('uses configured column names', () => {
    const columns = parseBillColumns('orderId=订单号,orderLineId=订单行号,amount=结算金额');
    const text = '订单号,订单行号,结算金额\nO1,O1-1,100\n';
    expect(billRows(parseCsvRecords(text), columns).rows).toStrictEqual([{ row: 2, orderId: 'O1', orderLineId: 'O1-1', amount: '100.00' }]);
  });

  it('names the missing columns when no header is found', () => {
    const records = parseCsvRecords('Order ID,Amount\nO1,1.00\n');
    expect(() => billRows(records, DEFAULT_BILL_COLUMNS)).toThrow(BillFormatError);
    expect(() => billRows(records, DEFAULT_BILL_COLUMNS)).toThrow(
      'no header row with the columns "Order ID", "Order Line ID", "Settlement Amount"; the first row lacks "Order Line ID", "Settlement Amount" (set BILL_COLUMNS to the export\'s names)',
    );
    expect(() => billRows([], DEFAULT_BILL_COLUMNS)).toThrow(BillFormatError);
  });

  it('reports bad rows as problems and keeps the good ones', () => {
    const text = `${HEADER}\nO1,O1-1,,,,1e3\nO2,O2-1,,,,12.345\nO3,O3-1,,,,¥5.00\nO4,,,,,5.00\n,,,,,\nTotal,,,,,\nO5,O5-1,,,,12.300\nO6,O6-1,,,,"1,23.00"\n`;
    const { rows, problems } = billRows(parseCsvRecords(text), DEFAULT_BILL_COLUMNS);
    expect(rows).toStrictEqual([{ row: 8, orderId: 'O5', orderLineId: 'O5-1', amount: '12.30' }]);
    expect(problems).toStrictEqual([
      { row: 2, message: 'amount "1e3" is not a decimal number' },
      { row: 3, message: 'amount "12.345" has more than 2 decimals' },
      { row: 4, message: 'amount "¥5.00" is not a decimal number' },
      { row: 5, message: 'no order line id and no instance id: nothing to match it by' },
      { row: 7, message: 'amount "" is not a decimal number' },
      { row: 9, message: 'amount "1,23.00" is not a decimal number' },
    ]);
  });

  it('skips the header repeated on each page of the export', () => {
    const text = `${HEADER}\nO1,O1-1,,,,1.00\n${HEADER}\nO2,O2-1,,,,2.00\n`;
    expect(billRows(parseCsvRecords(text), DEFAULT_BILL_COLUMNS)).toStrictEqual({
      rows: [
        { row: 2, orderId: 'O1', orderLineId: 'O1-1', amount: '1.00' },
        { row: 4, orderId: 'O2', orderLineId: 'O2-1', amount: '2.00' },
      ],
      problems: [],
    });
  });

  it('treats a short row as having empty cells', () => {
    expect(billRows(parseCsvRecords(`${HEADER}\nO1,O1-1\n`), DEFAULT_BILL_COLUMNS).problems).toStrictEqual([
      { row: 2, message: 'amount "" is not a decimal number' },
    ]);
  });
});

describe('parseBillColumns', () => {
  it('defaults to the inferred Seller Console names', () => {
    expect(parseBillColumns(undefined)).toStrictEqual(DEFAULT_BILL_COLUMNS);
    expect(parseBillColumns('')).toStrictEqual(DEFAULT_BILL_COLUMNS);
  });

  it('replaces the names it is given', () => {
    expect(parseBillColumns('amount=Net Amount, currency=Cur')).toStrictEqual({
      ...DEFAULT_BILL_COLUMNS,
      amount: 'Net Amount',
      currency: 'Cur',
    });
  });

  it.each([
    ['an entry without =', 'amount', 'BILL_COLUMNS entry "amount" must be <field>=<column name>'],
    ['an unknown field', 'price=Price', 'BILL_COLUMNS'],
    ['an empty name', 'amount=', 'amount'],
  ])('refuses %s', (_, setting, message) => {
    expect(() => parseBillColumns(setting)).toThrow(BillFormatError);
    expect(() => parseBillColumns(setting)).toThrow(message);
  });
});

const line = (over: Partial<StatementLine>): StatementLine => ({
  lineId: `ORDER:O:${over.orderLineId ?? 'L'}`,
  kind: 'ORDER',
  orderKind: 'NEW',
  orderId: 'O',
  orderLineId: 'L',
  instanceId: 'I',
  productId: 'P1',
  currency: 'CNY',
  at: '2026-03-05T00:00:00Z',
  gross: '100.00',
  fee: '15.00',
  tax: '5.10',
  net: '79.90',
  ...over,
});

const bill = (row: number, orderLineId: string, amount: string, over: Partial<BillRow> = {}): BillRow => ({
  row,
  orderId: 'O',
  orderLineId,
  amount,
  ...over,
});

describe('reconcile', () => {
  const ours = [
    line({ orderLineId: 'A' }),
    line({ orderLineId: 'B', net: '50.00' }),
    line({ orderLineId: 'C' }),
    line({ lineId: 'REFUND:O:A', kind: 'REFUND', orderLineId: 'A', gross: '-40.00', fee: '-6.00', tax: '-2.04', net: '-31.96' }),
    line({
      lineId: 'USAGE:IU',
      kind: 'USAGE',
      orderKind: undefined,
      orderId: undefined,
      orderLineId: undefined,
      instanceId: 'IU',
      gross: '15.43',
      fee: '3.09',
      tax: '0.74',
      net: '11.60',
    }),
  ];
  const theirs = [
    bill(2, 'A', '79.90'),
    bill(3, 'A', '-31.96'),
    bill(4, 'B', '49.99'),
    bill(5, 'D', '10.00'),
    bill(6, 'PPU-1', '11.60', { instanceId: 'IU' }),
  ];

  it('matches order lines by id and sign, usage by instance, and sorts rows by key', () => {
    expect(reconcile(ours, theirs)).toStrictEqual({
      compare: 'net',
      totals: {
        matched: 3,
        amountDiffers: 1,
        onlyOurs: 1,
        onlyTheirs: 1,
        currencies: { CNY: { ours: '189.44', theirs: '119.53', difference: '-69.91' } },
      },
      rows: [
        { status: 'MATCHED', key: 'ORDER:A', currency: 'CNY', ours: '79.90', theirs: '79.90', billRows: [2] },
        { status: 'AMOUNT_DIFFERS', key: 'ORDER:B', currency: 'CNY', ours: '50.00', theirs: '49.99', billRows: [4] },
        { status: 'ONLY_OURS', key: 'ORDER:C', currency: 'CNY', ours: '79.90' },
        { status: 'ONLY_THEIRS', key: 'ORDER:D', currency: 'CNY', theirs: '10.00', billRows: [5] },
        { status: 'MATCHED', key: 'REFUND:A', currency: 'CNY', ours: '-31.96', theirs: '-31.96', billRows: [3] },
        { status: 'MATCHED', key: 'USAGE:IU', currency: 'CNY', ours: '11.60', theirs: '11.60', billRows: [6] },
      ],
    });
  });

  it('sums bill rows with the same key', () => {
    const report = reconcile([line({ orderLineId: 'A' })], [bill(2, 'A', '40.00'), bill(3, 'A', '39.90')]);
    expect(report.rows).toStrictEqual([
      { status: 'MATCHED', key: 'ORDER:A', currency: 'CNY', ours: '79.90', theirs: '79.90', billRows: [2, 3] },
    ]);
  });

  it('tells an order line from its refund by the sign of the bill amount', () => {
    const report = reconcile([line({ orderLineId: 'A' })], [bill(2, 'A', '-79.90')]);
    expect(report.rows.map((r) => `${r.status} ${r.key}`)).toStrictEqual(['ONLY_OURS ORDER:A', 'ONLY_THEIRS REFUND:A']);
  });

  it('compares gross amounts when asked', () => {
    const report = reconcile([line({ orderLineId: 'A' })], [bill(2, 'A', '100.00')], { compare: 'gross' });
    expect(report.compare).toBe('gross');
    expect(report.totals.matched).toBe(1);
  });

  it('keys a bill row with an instance and no order line id as usage', () => {
    expect(reconcile([], [bill(2, '', '5.00', { instanceId: 'IX' })]).rows[0]?.key).toBe('USAGE:IX');
  });

  it('shows a different currency as a difference', () => {
    const report = reconcile([line({ orderLineId: 'A' })], [bill(2, 'A', '79.90', { currency: 'USD' })]);
    expect(report.rows).toStrictEqual([
      { status: 'AMOUNT_DIFFERS', key: 'ORDER:A', currency: 'CNY', theirsCurrency: 'USD', ours: '79.90', theirs: '79.90', billRows: [2] },
    ]);
    expect(report.totals.currencies).toStrictEqual({
      CNY: { ours: '79.90', theirs: '0.00', difference: '-79.90' },
      USD: { ours: '0.00', theirs: '79.90', difference: '79.90' },
    });
  });

  it('gives bill rows without a currency our single currency, or the one it is told', () => {
    expect(reconcile([line({ orderLineId: 'A', currency: 'USD' })], [bill(2, 'A', '79.90')]).rows[0]?.status).toBe('MATCHED');
    const mixed = [line({ orderLineId: 'A' }), line({ orderLineId: 'B', currency: 'USD' })];
    expect(reconcile(mixed, [bill(2, 'B', '79.90')]).rows[1]).toMatchObject({ status: 'AMOUNT_DIFFERS', theirsCurrency: '' });
    expect(reconcile(mixed, [bill(2, 'B', '79.90')], { currency: 'USD' }).rows[1]).toMatchObject({ status: 'MATCHED' });
  });

  it('reconciles nothing against nothing', () => {
    expect(reconcile([], [])).toStrictEqual({
      compare: 'net',
      totals: { matched: 0, amountDiffers: 0, onlyOurs: 0, onlyTheirs: 0, currencies: {} },
      rows: [],
    });
  });

  it('reads a bill end to end', () => {
    const text = `\uFEFF${HEADER}\r\nO,A,I,Purchase,CNY,79.90\r\nO,A,I,Unsubscribe,CNY,-31.96\r\n`;
    const { rows } = billRows(parseCsvRecords(text), DEFAULT_BILL_COLUMNS);
    const report = reconcile(ours.slice(0, 1).concat(ours[3]!), rows);
    expect(report.totals).toMatchObject({ matched: 2, amountDiffers: 0, onlyOurs: 0, onlyTheirs: 0 });
    expect(report.totals.currencies.CNY?.difference).toBe('0.00');
  });

  it('refuses amounts that are not statement amounts', () => {
    expect(() => reconcile([line({ net: '79.9' })], [])).toThrow(RangeError);
    expect(() => reconcile([], [bill(2, 'A', '1.5')])).toThrow('bill row 2: amount is not an amount with 2 decimals: "1.5"');
  });
});
