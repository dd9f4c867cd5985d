// Test helper: a sandbox API server on a free port with a KubeConfig for @kubernetes/client-node.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { SandboxServer } from '../../sandbox/apiserver/server.js';
import { randomToken, startSandboxServer } from '../../sandbox/apiserver/server.js';

export interface TestCluster {
  server: SandboxServer;
  kc: KubeConfig;
  kubeconfigPath: string;
  close(): Promise<void>;
}

export async function startTestCluster(): Promise<TestCluster> {
  const server = await startSandboxServer({ token: randomToken() });
  const dir = mkdtempSync(path.join(tmpdir(), 'fledge-test-'));
  const kubeconfigPath = server.writeKubeconfig(path.join(dir, 'kubeconfig'));
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return {
    server,
    kc,
    kubeconfigPath,
    close: async () => {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
