/** `koogallery usage`: an instance's usage ledger (its hourly windows, their push state, late corrections). */
import { usageLedger } from '#lib/seller-api/routes/usage.ts';
import type { Command } from './command.ts';
import { positiveInt, text } from './command.ts';
import { callRoute } from './context.ts';
import { fields, show, table } from './output.ts';

export const usageCommands: Command[] = [
  {
    area: 'usage',
    name: 'ledger',
    synopsis: 'usage ledger <instanceId> [--from <iso>] [--to <iso>] [--limit <n>]',
    summary: "an instance's usage windows (default: the last 7 days) with their push state, and late corrections",
    options: { from: { type: 'string' }, to: { type: 'string' }, limit: { type: 'string' } },
    args: [1, 1],
    async run(ctx, { args, values }) {
      const limit = positiveInt(values, 'limit');
      const ledger = await callRoute(ctx, usageLedger, {
        query: {
          instanceId: args[0],
          from: text(values, 'from'),
          to: text(values, 'to'),
          limit: limit === undefined ? undefined : String(limit),
        },
      });
      show(ctx.answer, ledger, () => [
        ...fields([
          ['instance', ledger.instanceId],
          ['total', ledger.total],
        ]),
        '',
        ...(ledger.windows.length === 0
          ? ['no usage windows in this range']
          : table(
              Object.keys(ledger.windows[0]!).map((k) => k.toUpperCase()),
              ledger.windows.map((w) => Object.values(w).map((v) => (typeof v === 'object' ? JSON.stringify(v) : (v as string | number)))),
            )),
        ...(ledger.corrections.length > 0 ? ['', `${ledger.corrections.length} late correction(s): --json shows them`] : []),
      ]);
      return 0;
    },
  },
];
