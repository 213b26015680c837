// The serverless plugin of offline-in-process.ts (serverless.yml `plugins`): serverless loads plugins with
// require(), so the TypeScript source is compiled on the fly by tsx.
import { require as tsxRequire } from 'tsx/cjs/api';

export default tsxRequire('./offline-in-process.ts', import.meta.url).default;
