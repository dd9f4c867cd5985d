// Which container images the sandbox kubelet runs as local processes, and how it starts them.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export interface Program {
  /** Repository part of the image (before ':'), e.g. "fledge/demo-app". */
  image: string;
  /** TypeScript entry point, run with `node --import tsx`. */
  entry: string;
}

const here = path.dirname(fileURLToPath(import.meta.url));

/** The programs this sandbox knows; every other image becomes a virtual pod. */
export const sandboxPrograms: readonly Program[] = [
  { image: 'fledge/demo-app', entry: path.resolve(here, '..', 'demo-app', 'main.ts') },
];

/** Splits "repo/name:tag" (a digest "@sha256:..." counts as no tag); tag '' when absent. */
export function parseImage(image: string): { repository: string; tag: string } {
  const at = image.indexOf('@');
  const base = at >= 0 ? image.slice(0, at) : image;
  const lastSlash = base.lastIndexOf('/');
  const colon = base.lastIndexOf(':');
  if (colon > lastSlash) return { repository: base.slice(0, colon), tag: base.slice(colon + 1) };
  return { repository: base, tag: '' };
}

export function programFor(programs: readonly Program[], image: string): Program | undefined {
  const { repository } = parseImage(image);
  return programs.find((p) => p.image === repository || `docker.io/${p.image}` === repository);
}
