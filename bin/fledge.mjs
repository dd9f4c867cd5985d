#!/usr/bin/env node
// The `fledge` command: runs the TypeScript CLI through tsx's loader (no build step needed).
import { register } from 'tsx/esm/api';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

register();
const here = path.dirname(fileURLToPath(import.meta.url));
const cli = await import(pathToFileURL(path.join(here, '..', 'cli', 'fledge.ts')).href);
await cli.main(process.argv.slice(2));
