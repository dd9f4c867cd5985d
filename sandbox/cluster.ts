// The whole local cluster in one call: API server (with its controllers), the kubelet running pods
// as processes, and optionally a real Prometheus scraping every pod's `http` port.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import type { SandboxServer } from './apiserver/server.js';
import { startSandboxServer } from './apiserver/server.js';
import type { Kubelet } from './kubelet/kubelet.js';
import { startKubelet } from './kubelet/kubelet.js';
import type { PrometheusHandle } from './prometheus.js';
import { podTargets, startPrometheus } from './prometheus.js';

export interface SandboxClusterOptions {
  port?: number;
  token?: string;
  /** Where to write the kubeconfig (default: a temporary file, removed on stop). */
  kubeconfigPath?: string;
  nodes?: number;
  /** Start a real Prometheus that follows the pods (default false). */
  prometheus?: boolean;
  scrapeIntervalMs?: number;
  /** Crash back-off of the kubelet (default kube's 10 s). */
  backoffBaseMs?: number;
}

export interface SandboxCluster {
  server: SandboxServer;
  kc: KubeConfig;
  kubeconfigPath: string;
  kubelet: Kubelet;
  prometheus?: PrometheusHandle;
  stop(): Promise<void>;
}

export async function startSandboxCluster(opts: SandboxClusterOptions = {}): Promise<SandboxCluster> {
  const server = await startSandboxServer({
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    ...(opts.token ? { token: opts.token } : {}),
  });
  const tmp = opts.kubeconfigPath ? undefined : mkdtempSync(path.join(tmpdir(), 'fledge-sandbox-'));
  const kubeconfigPath = server.writeKubeconfig(
    opts.kubeconfigPath ?? path.join(tmp as string, 'kubeconfig'),
  );
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  let prometheus: PrometheusHandle | undefined;
  try {
    if (opts.prometheus)
      prometheus = await startPrometheus({ scrapeIntervalMs: opts.scrapeIntervalMs ?? 1000 });
    const prom = prometheus;
    // Pod changes come in bursts: rewrite the scrape targets at most every 200 ms.
    let latest: V1Pod[] | undefined;
    let timer: NodeJS.Timeout | undefined;
    const retarget = (pods: V1Pod[]): void => {
      latest = pods;
      timer ??= setTimeout(() => {
        timer = undefined;
        if (prom && latest) void prom.setTargets(podTargets(latest)).catch(() => undefined);
      }, 200);
    };
    const kubelet = await startKubelet({
      kc,
      nodes: opts.nodes ?? 1,
      ...(opts.backoffBaseMs !== undefined ? { backoffBaseMs: opts.backoffBaseMs } : {}),
      ...(prom ? { onPodsChanged: retarget } : {}),
    });
    return {
      server,
      kc,
      kubeconfigPath,
      kubelet,
      ...(prometheus ? { prometheus } : {}),
      stop: async () => {
        clearTimeout(timer);
        await kubelet.stop();
        await prometheus?.stop();
        await server.close();
        if (tmp) rmSync(tmp, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await prometheus?.stop();
    await server.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
