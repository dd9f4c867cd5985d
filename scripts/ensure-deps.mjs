#!/usr/bin/env node
// Installs what `npm test`, `npm run demo` and `npm run bench` need on a fresh machine:
// npm packages from the lockfile when node_modules is missing or stale.
// (Prometheus from Debian's packages is added here once a part of fledge needs it.)
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lock = path.join(root, 'package-lock.json');
const marker = path.join(root, 'node_modules', '.package-lock.json');

function npmInstallNeeded() {
  if (!existsSync(marker)) return true;
  return statSync(lock).mtimeMs > statSync(marker).mtimeMs;
}

if (npmInstallNeeded()) {
  console.error('fledge: installing npm packages from package-lock.json ...');
  execFileSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}
