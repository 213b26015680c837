/**
 * The esbuild plugin that builds the seller console into the console function's bundle: when the bundler loads
 * lib/console/embedded.ts, it gets the console's files (scripts/console/build.ts) instead of the empty source.
 * serverless-esbuild loads it through esbuild-plugins.mjs (serverless.yml `custom.esbuild.plugins`), so
 * `npx serverless package` and `npm start` need no other step.
 */
import type { Plugin } from 'esbuild';
import { buildConsole } from './build.ts';

export const EMBEDDED_MODULE = /[\\/]lib[\\/]console[\\/]embedded\.ts$/;

export function embedConsolePlugin(): Plugin {
  return {
    name: 'embed-seller-console',
    setup(build) {
      build.onLoad({ filter: EMBEDDED_MODULE }, async () => {
        // The running esbuild's own API: a second copy loaded through tsx would not find its binary.
        const bundle = await buildConsole({ build: (options) => build.esbuild.build(options) });
        return { contents: `export const embeddedConsole = ${JSON.stringify(bundle)};\n`, loader: 'js' };
      });
    },
  };
}
