#!/usr/bin/env node
// Installs what `npm test`, `npm run demo` and `npm run bench` need on a fresh machine:
// npm packages from the lockfile when node_modules is missing or stale, and Prometheus from Debian's packages.
// Plain Node ESM on purpose: it runs before any npm package is installed.
import { execFileSync, spawnSync } from 'node:child_process';
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

// Keep in step with ensurePrometheusInstalled() in sandbox/prometheus.ts (which cannot be imported here).
function prometheusInstalled() {
  return spawnSync('sh', ['-c', 'command -v prometheus'], { stdio: 'ignore' }).status === 0;
}

/** Runs apt-get with a wait for the dpkg lock (another installer may hold it); returns an error text or ''. */
function aptGet(args) {
  const r = spawnSync('apt-get', ['-o', 'DPkg::Lock::Timeout=300', ...args], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 15 * 60_000,
  });
  if (r.error) return r.error.message;
  if (r.status !== 0) return `exit code ${r.status ?? r.signal}`;
  return '';
}

if (!prometheusInstalled()) {
  console.error('fledge: installing Prometheus (Debian package `prometheus`) ...');
  const err = aptGet(['update']) || aptGet(['install', '-y', '--no-install-recommends', 'prometheus']);
  if (err || !prometheusInstalled()) {
    console.error(
      `fledge: could not install Prometheus with apt-get (${err || 'binary still not on PATH'}).\n` +
        'The tests and the demo run a real Prometheus: install the Debian package `prometheus` ' +
        '(apt-get install --no-install-recommends prometheus, as root) and retry.',
    );
    process.exit(1);
  }
}
