import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kitPublicKeyOf } from '#lib/kit/rsaKeyPair.ts';
import { runKoogallery } from '../../scripts/operator/main.ts';

/** `koogallery kit keygen`: a key pair for the Kit clientSecret, with no stack running. */

function output() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => void out.push(l), err: (l: string) => void err.push(l) }, out, err };
}

const noStack = join(tmpdir(), 'no-such-dir', 'stack.json');

describe('koogallery kit keygen', () => {
  it('writes the private key owner-only, prints the public key as bare base64 SPKI and the SSM command, without a stack', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keygen-')), 'seller.pem');
    const o = output();
    expect(await runKoogallery(['kit', 'keygen', '--out', file], { io: o.io, stackFile: noStack })).toBe(0);
    const pem = readFileSync(file, 'utf8');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const publicKey = kitPublicKeyOf(pem);
    expect(o.out.at(-1)).toBe(publicKey);
    expect(o.out.join('\n')).toContain(
      `aws ssm put-parameter --type SecureString --name /koogallery-isv/<stage>/kit-rsa-private-key --value file://${file}`,
    );
    expect(o.out.join('\n')).not.toContain('PRIVATE KEY-----');
  });

  it('refuses to overwrite an existing file and leaves it as it was', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keygen-')), 'seller.pem');
    await runKoogallery(['kit', 'keygen', '--out', file], { io: output().io, stackFile: noStack });
    const before = readFileSync(file, 'utf8');
    const o = output();
    expect(await runKoogallery(['kit', 'keygen', '--out', file], { io: o.io, stackFile: noStack })).toBe(1);
    expect(o.err.join('\n')).toContain('already exists');
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  it('answers one JSON document with --json, and refuses arguments it does not take', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'keygen-')), 'k.pem');
    const o = output();
    expect(await runKoogallery(['kit', 'keygen', '--out', file, '--json'], { io: o.io, stackFile: noStack })).toBe(0);
    const answer = JSON.parse(o.out.join('\n')) as { privateKeyFile: string; publicKey: string; storeOnAws: string };
    expect(answer).toEqual({
      privateKeyFile: file,
      publicKey: kitPublicKeyOf(readFileSync(file, 'utf8')),
      storeOnAws: expect.stringContaining('ssm'),
    });
    expect(await runKoogallery(['kit', 'keygen', 'extra'], { io: output().io, stackFile: noStack })).toBe(2);
  });
});
