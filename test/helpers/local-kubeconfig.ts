// Test helper: a KubeConfig for a plain-HTTP API server on loopback (a test's own small server).
import { KubeConfig } from '@kubernetes/client-node';

export function localKubeConfig(port: number): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'local', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'user' }],
    contexts: [{ name: 'local', cluster: 'local', user: 'user' }],
    currentContext: 'local',
  });
  return kc;
}
