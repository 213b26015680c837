#!/usr/bin/env node
// koogallery (package.json "bin"): the operator CLI; runs the TypeScript sources of scripts/operator/main.ts through tsx.
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const { runKoogallery } = await import('./main.ts');
process.exitCode = await runKoogallery(process.argv.slice(2));
