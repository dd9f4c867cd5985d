// Installs every fledge CRD on a cluster (create, or replace the spec when it exists) and waits until the API
// server serves their resources. The objects are rendered from the zod schemas, as the committed YAML is.
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeRequest } from '../operator/k8s/raw.js';
import { renderCrd } from './crd.js';
import { allCrds } from './index.js';

const CRD_PATH = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

export async function installCrds(kc: KubeConfig, opts: { timeoutMs?: number } = {}): Promise<void> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  for (const def of allCrds) {
    const body = renderCrd(def);
    const name = `${def.plural}.${def.group}`;
    const created = await kubeRequest(kc, { method: 'POST', path: CRD_PATH, body, timeoutMs: 10_000 });
    if (created.status === 409) {
      const patched = await kubeRequest(kc, {
        method: 'PATCH',
        path: `${CRD_PATH}/${name}`,
        body: { spec: body['spec'] },
        contentType: 'application/merge-patch+json',
        timeoutMs: 10_000,
      });
      if (patched.status !== 200)
        throw new Error(`updating CRD ${name}: HTTP ${patched.status} ${JSON.stringify(patched.body)}`);
    } else if (created.status !== 201) {
      throw new Error(`creating CRD ${name}: HTTP ${created.status} ${JSON.stringify(created.body)}`);
    }
  }
  const deadline = Date.now() + timeoutMs;
  for (const def of allCrds) {
    const version = def.versions[0]?.name ?? 'v1';
    for (;;) {
      const res = await kubeRequest(kc, {
        method: 'GET',
        path: `/apis/${def.group}/${version}/${def.plural}`,
        timeoutMs: 5000,
      });
      if (res.status === 200) break;
      if (Date.now() > deadline)
        throw new Error(`the ${def.plural}.${def.group} API is not served after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
