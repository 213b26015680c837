#!/usr/bin/env node
// koogallery-sim (package.json "bin"): runs the TypeScript sources of scripts/sim/cli.ts through tsx.
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const { runSim } = await import('./cli.ts');
process.exitCode = await runSim(process.argv.slice(2));
