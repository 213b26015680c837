/**
 * `npm run console:build`: builds the seller console into console/dist/ and prints each file's size, raw and
 * gzipped. (The console function builds it again into its own bundle; this is for looking at the result.)
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { buildConsole, CONSOLE_DIR, sizesOf } from './build.ts';

const started = Date.now();
const bundle = await buildConsole();
const outDir = join(CONSOLE_DIR, 'dist');
rmSync(outDir, { recursive: true, force: true });
for (const [name, file] of Object.entries(bundle.files)) {
  mkdirSync(dirname(join(outDir, name)), { recursive: true });
  writeFileSync(join(outDir, name), file.body);
}
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`.padStart(9);
const sizes = sizesOf(bundle);
const width = Math.max(...sizes.map((s) => s.name.length));
console.log(`${'file'.padEnd(width)}       raw     gzip`);
for (const s of sizes) console.log(`${s.name.padEnd(width)} ${kb(s.raw)} ${kb(s.gzip)}`);
const total = sizes.reduce((sum, s) => ({ raw: sum.raw + s.raw, gzip: sum.gzip + s.gzip }), { raw: 0, gzip: 0 });
console.log(`${'total'.padEnd(width)} ${kb(total.raw)} ${kb(total.gzip)}`);
console.log(`built into ${outDir} in ${Date.now() - started} ms`);
