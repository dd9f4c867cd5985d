// Test helper: installs every fledge CRD (crds/*.yaml, the committed files) on a sandbox API server and waits
// until their APIs are served.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeConfig } from '@kubernetes/client-node';
import { CustomObjectsApi } from '@kubernetes/client-node';
import YAML from 'yaml';
import { crdFileName } from '../../crds/crd.js';
import { allCrds } from '../../crds/index.js';
import { kubeRequest } from '../../operator/k8s/raw.js';
import { waitFor } from './wait-for.js';

const crdDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../crds');

export async function installCrds(kc: KubeConfig): Promise<void> {
  // Raw JSON: client-node's typed CRD model drops `x-kubernetes-int-or-string`.
  for (const def of allCrds) {
    const body: unknown = YAML.parse(readFileSync(path.join(crdDir, crdFileName(def)), 'utf8'));
    const res = await kubeRequest(kc, {
      method: 'POST',
      path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
      body,
      timeoutMs: 10_000,
    });
    if (res.status !== 201)
      throw new Error(
        `creating CRD ${def.plural}.${def.group}: HTTP ${res.status} ${JSON.stringify(res.body)}`,
      );
  }
  const custom = kc.makeApiClient(CustomObjectsApi);
  for (const def of allCrds) {
    const version = def.versions[0]?.name ?? 'v1';
    await waitFor(
      async () => {
        await custom.listClusterCustomObject({ group: def.group, version, plural: def.plural });
        return true;
      },
      { what: `the ${def.plural}.${def.group} API`, timeoutMs: 10_000 },
    );
  }
}
