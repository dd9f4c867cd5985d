// `fledge sandbox` as a user runs it: the bin starts the cluster, writes a kubeconfig that
// client-node can use, and stops cleanly on Ctrl-C.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

describe('fledge sandbox', () => {
  it('serves a cluster through the kubeconfig it prints, and exits 0 on SIGINT', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fledge-cli-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    const child = spawn(
      process.execPath,
      [path.join(root, 'bin', 'fledge.mjs'), 'sandbox', '--kubeconfig', kubeconfig],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const lines: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const rl = createInterface({ input: child.stdout });
        rl.on('line', (l) => {
          lines.push(l);
          if (l.startsWith('Press Ctrl-C')) resolve();
        });
        child.once('exit', () => reject(new Error(`fledge sandbox exited early:\n${lines.join('\n')}`)));
      });
      expect(lines).toContain(`kubeconfig: ${kubeconfig}`);
      const kc = new KubeConfig();
      kc.loadFromFile(kubeconfig);
      const namespaces = await kc.makeApiClient(CoreV1Api).listNamespace();
      expect(namespaces.items.map((n) => n.metadata?.name).sort()).toEqual([
        'default',
        'kube-node-lease',
        'kube-public',
        'kube-system',
      ]);
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
