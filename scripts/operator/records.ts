/**
 * `koogallery usage`, `koogallery licenses` and `koogallery proofs`: an instance's usage ledger, License codes
 * (register, show) and delivery proofs (upload, list). Licenses and proofs run the tools of scripts/licenses.ts and
 * scripts/proofs.ts on the stack the CLI names.
 */
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { dynamoClient } from '#lib/aws/clients.ts';
import { usageLedger } from '#lib/seller-api/routes/usage.ts';
import { licenseCliStore, runLicensesCli } from '../licenses.ts';
import { runProofsCli } from '../proofs.ts';
import type { Command } from './command.ts';
import { positiveInt, text } from './command.ts';
import { callRoute, CommandExit, operatorAction, type OperatorContext } from './context.ts';
import { fields, show, table } from './output.ts';

/** Runs a tool's command line; a non-zero exit code (its message printed) ends the CLI with that code. */
async function exitOf(run: () => Promise<number>): Promise<number> {
  const code = await run();
  if (code !== 0) throw new CommandExit(code);
  return code;
}

const licenses = (ctx: OperatorContext, argv: string[]) => {
  const cfg = ctx.config();
  return runLicensesCli(argv, () => licenseCliStore(dynamoClient(), cfg.MAIN_TABLE), ctx.now(), ctx.io, cfg.TEST_INSTANCE_TTL_DAYS);
};

/** The proofs tool against this stack's seller API, with the local stack's key unless SELLER_API_KEY or --key names one. */
const proofs = (ctx: OperatorContext, argv: string[]) => {
  const url = ctx.settings.httpUrl && !argv.some((a) => a === '--url' || a.startsWith('--url=')) ? ['--url', ctx.settings.httpUrl] : [];
  const env = { SELLER_API_KEY: process.env.SELLER_API_KEY ?? ctx.settings.sellerKey };
  return runProofsCli([...argv, ...url], ctx.io, {
    fetch: (...a) => fetch(...a),
    readFile: (p) => readFile(p),
    sleep: (ms) => sleep(ms),
    now: ctx.now,
    env,
  });
};

export const recordCommands: Command[] = [
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
  {
    area: 'licenses',
    name: 'register',
    synopsis:
      'licenses register <code> [--order <orderId>] [--line <orderLineId>] [--product <productId>] [--expire yyyyMMddHHmmss] [--test]',
    summary: 'register a License code, so the marketplace can use it',
    ownParser: true,
    args: [1, 1],
    run: (ctx, { args }) => operatorAction(ctx, 'licenses.register', args[1] ?? '', () => exitOf(() => licenses(ctx, args))),
  },
  {
    area: 'licenses',
    name: 'show',
    synopsis: 'licenses show <code>',
    summary: 'a License code and its history',
    ownParser: true,
    args: [1, 1],
    run: (ctx, { args }) => exitOf(() => licenses(ctx, args)),
  },
  {
    area: 'proofs',
    name: 'upload',
    synopsis:
      'proofs upload --order <orderId> --line <orderLineId> --kind <kind> [--service-start <iso>] [--content-type <type>] [--key <API key>] [--timeout <seconds>] <file>',
    summary: 'upload a delivery proof through the seller API and wait for its check',
    ownParser: true,
    args: [1, 1],
    run: (ctx, { args }) => operatorAction(ctx, 'proofs.upload', args.at(-1) ?? '', () => exitOf(() => proofs(ctx, args))),
  },
  {
    area: 'proofs',
    name: 'list',
    synopsis: 'proofs list --order <orderId> --line <orderLineId> [--key <API key>]',
    summary: "an order line's supervision, its history and its proofs",
    ownParser: true,
    args: [0, 0],
    run: (ctx, { args }) => exitOf(() => proofs(ctx, ['show', ...args.slice(1)])),
  },
];
