/**
 * `koogallery keys`: the seller API's keys (`Authorization: Bearer kgs_...`). A key's secret is printed once, at
 * creation; only its SHA-256 is stored, so a lost secret means a new key.
 */
import { dynamoClient } from '#lib/aws/clients.ts';
import { ApiKeyError, SCOPES, type SellerKey } from '#lib/seller-api/apiKeys.ts';
import { apiKeyStore } from '#lib/store/apiKeyStore.ts';
import type { Command } from './command.ts';
import { required } from './command.ts';
import { operatorAction, Refused, UsageError, type OperatorContext } from './context.ts';
import { fields, show, table } from './output.ts';

const keys = (ctx: OperatorContext) => apiKeyStore(dynamoClient(), ctx.config().MAIN_TABLE);

/** `a,b , c` → ['a', 'b', 'c']; the store says what is wrong with them. */
const scopeList = (raw: string): string[] =>
  raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');

/** The store's refusal as the CLI's: a malformed name or scope is bad input, a taken name a refusal. */
function keyRefusal(error: unknown): unknown {
  if (!(error instanceof ApiKeyError)) return error;
  return error.reason === 'invalid' ? new UsageError(error.message) : new Refused(error.message);
}

const keyRow = (k: SellerKey) => [k.keyId, k.name, k.scopes.join(','), k.createdAt, k.lastUsedAt, k.revokedAt];

export const keyCommands: Command[] = [
  {
    area: 'keys',
    name: 'create',
    synopsis: 'keys create --name <name> --scopes <scope>[,<scope>...]',
    summary: `a new seller API key; its secret is shown once. Scopes: ${SCOPES.join(', ')}`,
    options: { name: { type: 'string' }, scopes: { type: 'string' } },
    args: [0, 0],
    async run(ctx, { values }) {
      const name = required(values, 'name', 'what the key is for, e.g. billing-system');
      const scopes = scopeList(required(values, 'scopes', `a comma-separated list of ${SCOPES.join(', ')}`));
      const created = await operatorAction(ctx, 'keys.create', name, () =>
        keys(ctx)
          .create({ name, scopes, now: ctx.now() })
          .catch((error: unknown) => {
            throw keyRefusal(error);
          }),
      );
      const { key, secret } = created;
      show(ctx.answer, { ...key, secret }, () => [
        `created API key ${key.keyId}`,
        ...fields([
          ['  name', key.name],
          ['  scopes', key.scopes.join(',')],
          ['  secret', secret],
        ]),
      ]);
      if (!ctx.answer.json) ctx.io.err('warning: this is the only time the secret is shown; store it now (only its hash is kept).');
      return 0;
    },
  },
  {
    area: 'keys',
    name: 'list',
    synopsis: 'keys list',
    summary: 'every key, revoked ones included, newest first (never a secret)',
    args: [0, 0],
    async run(ctx) {
      const list = await keys(ctx).list();
      show(ctx.answer, { items: list }, () =>
        list.length === 0 ? ['no API keys'] : table(['KEY ID', 'NAME', 'SCOPES', 'CREATED', 'LAST USED', 'REVOKED'], list.map(keyRow)),
      );
      return 0;
    },
  },
  {
    area: 'keys',
    name: 'revoke',
    synopsis: 'keys revoke <keyId|name>',
    summary: 'revoke a key at once (a name revokes the live key of that name)',
    args: [1, 1],
    async run(ctx, { args }) {
      const target = args[0]!;
      const key = await operatorAction(ctx, 'keys.revoke', target, async () => {
        const revoked = await keys(ctx)
          .revoke(target, ctx.now())
          .catch((error: unknown) => {
            throw keyRefusal(error);
          });
        if (!revoked)
          throw new Refused(`no API key with keyId ${JSON.stringify(target)} and no live key named so: see \`koogallery keys list\``);
        return revoked;
      });
      // A key revoked earlier keeps its first revokedAt.
      show(ctx.answer, key, () => [`API key ${key.keyId} (${key.name}) revoked at ${key.revokedAt}`]);
      return 0;
    },
  },
];
