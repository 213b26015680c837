// The esbuild plugins of the functions' bundles (serverless.yml `custom.esbuild.plugins`): serverless-esbuild
// loads this file with require(), so the TypeScript source is compiled on the fly by tsx.
import { require as tsxRequire } from 'tsx/cjs/api';

const { embedConsolePlugin } = tsxRequire('./esbuildPlugin.ts', import.meta.url);

export default [embedConsolePlugin()];
