// Test helper: minimal Deployments and Canaries as a user would apply them (plain JSON), and their API paths,
// for the tests that run the operator on a sandbox API server.
import type { KubeConfig } from '@kubernetes/client-node';
import { kubeRequest } from '../../operator/k8s/raw.js';

export const canariesPath = (ns: string): string => `/apis/flagger.app/v1beta1/namespaces/${ns}/canaries`;
export const deploymentsPath = (ns: string): string => `/apis/apps/v1/namespaces/${ns}/deployments`;

/**
 * A Deployment selecting `app: <name>`. Its image is no sandbox program, so the sandbox kubelet runs its pods
 * as virtual pods: Ready without a process.
 */
export function testDeployment(namespace: string, name: string, replicas = 1): object {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'app', image: 'nginx:1.25', ports: [{ name: 'http', containerPort: 80 }] }],
        },
      },
    },
  };
}

/** A valid canary-strategy Canary targeting Deployment `target` (default: its own name). */
export function testCanary(
  namespace: string,
  name: string,
  opts: { target?: string; spec?: Record<string, unknown>; analysis?: Record<string, unknown> } = {},
): { apiVersion: string; kind: string; metadata: object; spec: Record<string, unknown> } {
  return {
    apiVersion: 'flagger.app/v1beta1',
    kind: 'Canary',
    metadata: { name, namespace },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: opts.target ?? name },
      service: { port: 80 },
      ...opts.spec,
      analysis: { interval: '1m', threshold: 2, stepWeight: 10, maxWeight: 50, ...opts.analysis },
    },
  };
}

/** POSTs an object; the API server's answer (status and body) is returned, not thrown. */
export async function apply(
  kc: KubeConfig,
  path: string,
  body: object,
): Promise<{ status: number; body: unknown }> {
  const res = await kubeRequest(kc, { method: 'POST', path, body, timeoutMs: 10_000 });
  return { status: res.status, body: res.body };
}

/** GETs an object; null when it does not exist (404). */
export async function read<T>(kc: KubeConfig, path: string): Promise<T | null> {
  const res = await kubeRequest(kc, { method: 'GET', path, timeoutMs: 10_000 });
  if (res.status === 404) return null;
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as T;
}
