/**
 * Builds the seller console (console/src, Preact + one CSS file) with esbuild into hashed file names, in memory:
 * `index.html` and `assets/app-<hash>.js|css`. Used by the console function's bundling (esbuildPlugin.ts), by
 * `npm run console:build` (which writes the files to console/dist/ and prints their sizes) and by the browser tests.
 */
import { gzipSync } from 'node:zlib';
import { join, relative } from 'node:path';
import type { BuildOptions, BuildResult } from 'esbuild';
import { ASSETS_DIR, INDEX_FILE, type ConsoleBundle } from '#lib/console/bundle.ts';
import { CONSOLE_PATH } from '#lib/console/serve.ts';
import { projectRoot } from '../local/serverless-config.ts';

export const CONSOLE_DIR = join(projectRoot(), 'console');

const CONTENT_TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
};

const contentTypeOf = (name: string) => CONTENT_TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream';

/** The page: the hashed stylesheet and script, nothing inline (the Content-Security-Policy allows no inline code). */
export function indexHtml(script: string, stylesheet: string | undefined): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>Seller console · KooGallery ISV server</title>',
    '<link rel="icon" href="data:,">',
    ...(stylesheet ? [`<link rel="stylesheet" href="${CONSOLE_PATH}/${stylesheet}">`] : []),
    `<script type="module" src="${CONSOLE_PATH}/${script}"></script>`,
    '</head>',
    '<body>',
    '<div id="app"></div>',
    '<noscript>The seller console needs JavaScript.</noscript>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

/** esbuild's build function (inside an esbuild plugin, the running esbuild's own: `build.esbuild.build`). */
type Build = (options: BuildOptions & { write: false }) => Promise<BuildResult<BuildOptions & { write: false }>>;

/** The console's files, built from console/src. */
export async function buildConsole(options: { minify?: boolean; build?: Build } = {}): Promise<ConsoleBundle> {
  const outdir = join(CONSOLE_DIR, 'dist', ASSETS_DIR);
  const build = options.build ?? (await import('esbuild')).build;
  const result = await build({
    entryPoints: { app: join(CONSOLE_DIR, 'src', 'main.tsx') },
    tsconfig: join(CONSOLE_DIR, 'tsconfig.json'),
    bundle: true,
    format: 'esm',
    target: ['es2022', 'chrome111', 'firefox111', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: options.minify ?? true,
    legalComments: 'none',
    entryNames: '[name]-[hash]',
    outdir,
    write: false,
    logLevel: 'silent',
  });
  const files: ConsoleBundle['files'] = {};
  for (const out of result.outputFiles) {
    const name = relative(outdir, out.path).split('\\').join('/');
    files[`${ASSETS_DIR}/${name}`] = { contentType: contentTypeOf(name), body: out.text };
  }
  const names = Object.keys(files);
  const script = names.find((n) => n.endsWith('.js'));
  if (!script) throw new Error('the console build made no script');
  files[INDEX_FILE] = {
    contentType: contentTypeOf(INDEX_FILE),
    body: indexHtml(
      script,
      names.find((n) => n.endsWith('.css')),
    ),
  };
  return { files };
}

/** Each file's size, raw and gzipped, in bytes. */
export function sizesOf(bundle: ConsoleBundle): { name: string; raw: number; gzip: number }[] {
  return Object.entries(bundle.files)
    .map(([name, file]) => ({ name, raw: Buffer.byteLength(file.body), gzip: gzipSync(file.body, { level: 9 }).length }))
    .sort((a, b) => a.name.localeCompare(b.name));
}
