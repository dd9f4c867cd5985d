// kubectl against the sandbox: apply a CRD and objects of it, then read the columns of
// `kubectl get` and `kubectl get -o wide` (server-side Tables). Runs only when kubectl is on PATH.
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SandboxServer } from '../../sandbox/apiserver/server.js';
import { startSandboxServer } from '../../sandbox/apiserver/server.js';
import { waitFor } from '../helpers/wait-for.js';

function findKubectl(): string | undefined {
  try {
    return execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const kubectlPath = findKubectl();
if (!kubectlPath) console.log('kubectl test not run: kubectl is not on PATH');

const manifests = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget, shortNames: [gd]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Phase, type: string, jsonPath: .status.phase}
    - {name: Weight, type: integer, jsonPath: .spec.weight}
    - {name: Size, type: string, jsonPath: .spec.size, priority: 1}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              weight: {type: integer}
              size: {type: string, default: small}
          status:
            type: object
            properties:
              phase: {type: string}
`;

const objects = `
apiVersion: example.com/v1
kind: Gadget
metadata: {name: alpha, namespace: default}
spec: {weight: 10}
---
apiVersion: example.com/v1
kind: Gadget
metadata: {name: beta, namespace: default}
spec: {weight: 20, size: large}
`;

describe.skipIf(!kubectlPath)('kubectl against the sandbox', () => {
  let server: SandboxServer;
  let dir: string;
  let kubeconfig: string;

  const kubectl = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      execFile(
        kubectlPath as string,
        ['--kubeconfig', kubeconfig, ...args],
        { timeout: 30_000 },
        (err, stdout, stderr) => {
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        },
      );
    });

  beforeAll(async () => {
    // kubectl sends no bearer token over plain HTTP, so this server runs without one.
    server = await startSandboxServer();
    dir = mkdtempSync(path.join(tmpdir(), 'fledge-kubectl-'));
    kubeconfig = server.writeKubeconfig(path.join(dir, 'kubeconfig'));
    writeFileSync(path.join(dir, 'crd.yaml'), manifests);
    writeFileSync(path.join(dir, 'objects.yaml'), objects);
  });

  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('applies a CRD and its objects, and prints their columns', async () => {
    const crd = await kubectl('apply', '-f', path.join(dir, 'crd.yaml'));
    expect(crd.stderr).toBe('');
    expect(crd.stdout.trim()).toBe(
      'customresourcedefinition.apiextensions.k8s.io/gadgets.example.com created',
    );
    await waitFor(async () => (await kubectl('get', 'crd', 'gadgets.example.com')).code === 0, {
      what: 'the CRD',
    });

    const applied = await kubectl('apply', '-f', path.join(dir, 'objects.yaml'));
    expect(applied.stdout.trim().split('\n')).toEqual([
      'gadget.example.com/alpha created',
      'gadget.example.com/beta created',
    ]);
    await kubectl(
      'patch',
      'gadget',
      'beta',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"phase":"Ready"}}',
    );

    const get = await kubectl('get', 'gadgets');
    expect(get.code).toBe(0);
    const rows = get.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    expect(rows[0]).toEqual(['NAME', 'PHASE', 'WEIGHT', 'AGE']);
    expect(rows[1]?.slice(0, 2)).toEqual(['alpha', '10']);
    expect(rows[2]?.slice(0, 3)).toEqual(['beta', 'Ready', '20']);

    const wide = await kubectl('get', 'gd', '-o', 'wide');
    const wideRows = wide.stdout
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/));
    expect(wideRows[0]).toEqual(['NAME', 'PHASE', 'WEIGHT', 'SIZE', 'AGE']);
    expect(wideRows[1]?.slice(0, 3)).toEqual(['alpha', '10', 'small']);
    expect(wideRows[2]?.slice(0, 4)).toEqual(['beta', 'Ready', '20', 'large']);

    const missing = await kubectl('get', 'gadget', 'nope');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr.trim()).toBe('Error from server (NotFound): gadgets.example.com "nope" not found');
  });
});
