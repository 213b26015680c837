/**
 * `koogallery licenses`: License codes (spec §1.2, §5.1). A code is known to the production interface once it is
 * registered here; until then the marketplace's callbacks for it answer 000003. `show` prints a code and its history.
 */
import { dynamoClient } from '#lib/aws/clients.ts';
import type { License, LicenseHistoryEntry } from '#lib/licenses/license.ts';
import { licenseRegistry } from '#lib/licenses/deps.ts';
import { registerLicenseCode, showLicenseCode } from '#lib/licenses/registration.ts';
import type { Command } from './command.ts';
import { text } from './command.ts';
import { operatorAction, Refused, UsageError, type OperatorContext } from './context.ts';
import { fields, show, table } from './output.ts';

const registry = (ctx: OperatorContext) => licenseRegistry(dynamoClient(), ctx.config().MAIN_TABLE);

function licenseLines(license: License): string[] {
  return fields([
    ['license', license.license],
    ['state', license.state],
    ['test', license.test ? 'yes (debug traffic; expires)' : undefined],
    ['order', license.orderId ? `${license.orderId}${license.orderLineId ? ` / ${license.orderLineId}` : ''}` : undefined],
    ['product', license.productId],
    ['expires', license.expireTime],
    ['created', license.createdAt],
    ['updated', `${license.updatedAt} (version ${license.version})`],
  ]);
}

const actorText = (h: LicenseHistoryEntry): string =>
  h.by?.kind === 'operator' ? `${h.actor} (${h.by.principal})` : h.by?.kind === 'key' ? `${h.actor} (key ${h.by.keyId})` : h.actor;

const historyLines = (history: readonly LicenseHistoryEntry[]): string[] =>
  table(
    ['V', 'AT', 'ACTOR', 'EVENT', 'FROM', 'TO', 'ORDER'],
    history.map((h) => [h.version, h.at, actorText(h), h.event, h.from, h.to, h.orderId]),
  );

export const licenseCommands: Command[] = [
  {
    area: 'licenses',
    name: 'register',
    synopsis:
      'licenses register <code> [--order <orderId>] [--line <orderLineId>] [--product <productId>] [--expire yyyyMMddHHmmss] [--test]',
    summary: 'register a License code (ACTIVE), so the marketplace can renew, freeze and release it; an existing code is never changed',
    options: {
      order: { type: 'string' },
      line: { type: 'string' },
      product: { type: 'string' },
      expire: { type: 'string' },
      test: { type: 'boolean' },
    },
    args: [1, 1],
    async run(ctx, { args, values }) {
      const code = args[0]!;
      const input = {
        license: code,
        orderId: text(values, 'order'),
        orderLineId: text(values, 'line'),
        productId: text(values, 'product'),
        expireTime: text(values, 'expire'),
        test: values.test === true,
      };
      const registered = await operatorAction(ctx, 'licenses.register', code.trim(), async () => {
        const by = { kind: 'operator' as const, principal: await ctx.principal() };
        const outcome = await registerLicenseCode(registry(ctx), input, ctx.now(), ctx.config().TEST_INSTANCE_TTL_DAYS, by);
        if (outcome.outcome === 'invalid') throw new UsageError(outcome.error);
        if (outcome.outcome === 'exists')
          throw new Refused(
            `license ${JSON.stringify(code.trim())} is already registered; it was not changed (see: koogallery licenses show ${code.trim()})`,
          );
        return outcome.license;
      });
      show(ctx.answer, registered, () => [
        `registered license ${registered.license}${registered.test ? ' (test)' : ''}`,
        '',
        ...licenseLines(registered),
      ]);
      return 0;
    },
  },
  {
    area: 'licenses',
    name: 'show',
    synopsis: 'licenses show <code>',
    summary: 'a License code (state, order, expiry) and its history',
    args: [1, 1],
    async run(ctx, { args }) {
      const code = args[0]!.trim();
      const found = await showLicenseCode(registry(ctx), code);
      if (!found) throw new Refused(`license ${JSON.stringify(code)} is not registered: koogallery licenses register ${code}`);
      show(ctx.answer, found, () => [...licenseLines(found.license), '', 'history', ...historyLines(found.history).map((l) => `  ${l}`)]);
      return 0;
    },
  },
];
