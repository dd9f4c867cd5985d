#!/usr/bin/env node
// Builds what the image runs: `dist/cli/fledge.js` and its lazily loaded chunks, bundled by esbuild from the
// TypeScript sources (type checking is `npm run typecheck`'s job).
//
// Why a bundle: `@kubernetes/client-node` has one entry module that loads its whole generated API — every
// API group's class three times over, about 13 MB of source held in the heap — and the operator uses a
// handful of its exports. Bundled and tree-shaken, importing what the operator uses costs about 40 MB less
// RSS. Every other package stays external, loaded from node_modules as usual (the mesh finds the Envoy
// protos through its package path, and pino's transports run files of their own).
//
// Plain Node ESM: `node scripts/bundle.mjs [--outdir DIR] [--metafile FILE]`.
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The packages bundled into dist (everything else the sources import stays external). */
export const BUNDLED_PACKAGES = ['@kubernetes/client-node'];

/**
 * Bundles the CLI into `outdir` (emptied first); resolves with esbuild's metafile (which inputs went into
 * which output).
 */
export async function bundle(outdir) {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const external = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies }).filter(
    (name) => !BUNDLED_PACKAGES.includes(name),
  );
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: root,
    entryPoints: ['cli/fledge.ts'],
    outbase: '.',
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external,
    chunkNames: 'chunks/[name]-[hash]',
    sourcemap: true,
    metafile: true,
    logLevel: 'warning',
    minifyWhitespace: true,
    minifySyntax: true,
    charset: 'ascii',
    // Bundled CommonJS code calls require(); an ES module has none of its own.
    banner: {
      js: "import { createRequire as fledgeCreateRequire } from 'node:module'; const require = fledgeCreateRequire(import.meta.url);",
    },
  });
  return result.metafile;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { outdir: { type: 'string' }, metafile: { type: 'string' } } });
  const outdir = path.resolve(values.outdir ?? path.join(root, 'dist'));
  const metafile = await bundle(outdir);
  if (values.metafile) writeFileSync(values.metafile, JSON.stringify(metafile));
  console.error(`fledge: bundled into ${path.relative(process.cwd(), outdir) || '.'}`);
}
