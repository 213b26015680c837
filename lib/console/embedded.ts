import type { ConsoleBundle } from './bundle.ts';

/**
 * The built console inside the console function's bundle. In the source it is absent: when the function is bundled
 * (serverless package, npm start), the esbuild plugin of scripts/console/esbuildPlugin.ts builds the console and
 * puts its files here.
 */
export const embeddedConsole: ConsoleBundle | undefined = undefined;
