/**
 * `koogallery kit keygen [--out <file>]`: a new key pair for the joint-operation Kit's `clientSecret` (spec kit.md
 * §3.6). Writes the 3072-bit private key (PKCS#8 PEM) to a file only its owner can read, never over an existing
 * file, and prints the public key as the Seller Console's 公钥 field takes it (bare base64 SPKI) with the command
 * that stores the private key for a stage. Needs no stack: nothing is changed on one.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateKitKeyPair } from '#lib/kit/rsaKeyPair.ts';
import { text, type Command, type CommandInput } from './command.ts';
import { Refused } from './context.ts';
import { fields, show, type Answer } from './output.ts';

export const DEFAULT_KEY_FILE = 'kit-rsa.pem';

/** The SSM parameter the kit and sso functions read the private key from (serverless.yml kitRsaPrivateKeyParameter). */
export const ssmCommand = (file: string): string =>
  `aws ssm put-parameter --type SecureString --name /koogallery-isv/<stage>/kit-rsa-private-key --value file://${file}`;

/** Writes the private key to `file` (created owner-only; an existing file is refused, not replaced). */
function writeNewFile(file: string, pem: string): void {
  try {
    writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new Refused(`${file} already exists: choose another --out (a key in use is never overwritten)`);
    throw new Refused(`cannot write ${file}: ${code ?? 'error'}`);
  }
  chmodSync(file, 0o600);
}

export async function kitKeygen(answer: Answer, { values }: CommandInput): Promise<number> {
  const file = resolve(text(values, 'out') ?? DEFAULT_KEY_FILE);
  const pair = generateKitKeyPair();
  writeNewFile(file, pair.privateKeyPem);
  const store = ssmCommand(file);
  show(answer, { privateKeyFile: file, publicKey: pair.publicKey, storeOnAws: store }, () => [
    ...fields([
      ['private key', `${file} (3072-bit RSA, PKCS#8 PEM, readable by you only: keep it secret)`],
      ['store on AWS', store],
      ['locally', 'KIT_RSA_PRIVATE_KEY in .env (the PEM text), or nothing: npm start makes .local/kit-rsa.pem'],
    ]),
    '',
    'Public key for the Seller Console (应用凭证 → 公钥):',
    pair.publicKey,
  ]);
  return 0;
}

export const kitKeygenCommands: Command[] = [
  {
    area: 'kit',
    name: 'keygen',
    synopsis: 'kit keygen [--out <file>]',
    summary: 'a new RSA key pair for the Kit clientSecret: the private key to a file, the public key for the Seller Console',
    options: { out: { type: 'string' } },
    args: [0, 0],
    withoutStack: kitKeygen,
    run: (ctx, input) => kitKeygen(ctx.answer, input),
  },
];
