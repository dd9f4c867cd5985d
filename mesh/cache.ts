// The snapshot cache: the current Snapshot of each node group (client kind), and who to tell when it
// changes. Knows nothing of gRPC; the ADS server reads from it and subscribes to it.
import type { Snapshot } from './snapshot.js';
import { checkConsistency } from './snapshot.js';

/** The kind a node declares in its metadata; each kind is one node group served the same snapshot. */
export type NodeGroup = 'sidecar' | 'gateway' | 'proxyless';
export const NODE_GROUPS: readonly NodeGroup[] = ['sidecar', 'gateway', 'proxyless'];

/** `seq` numbers successful publishes (1, 2, …): convergence is tracked against it (mesh/convergence.ts). */
export type PublishResult = { ok: true; changed: NodeGroup[]; seq: number } | { ok: false; message: string };

/** Called after a publish with the groups whose snapshot version changed (never empty). */
export type CacheListener = (changed: readonly NodeGroup[]) => void;

export class SnapshotCache {
  private readonly snapshots = new Map<NodeGroup, Snapshot>();
  private readonly listeners = new Set<CacheListener>();
  private isSynced = false;
  private publishSeq = 0;

  /**
   * False until the first successful publish: until then nothing is served (a restarted control
   * plane never pushes an empty or partial config). Publish every group after the first full sync.
   */
  get synced(): boolean {
    return this.isSynced;
  }

  /**
   * The number of the last successful publish (0 before the first). A stream that has ACKed everything it
   * was sent after seeing the snapshots of publish N is up to date with every change up to N.
   */
  get seq(): number {
    return this.publishSeq;
  }

  /** The group's current snapshot; undefined before the first publish or when it was never given one. */
  get(group: NodeGroup): Snapshot | undefined {
    return this.isSynced ? this.snapshots.get(group) : undefined;
  }

  /**
   * Replaces the snapshots of the given groups at once (groups not given keep theirs). Every snapshot
   * is checked first: if one is inconsistent nothing is published and the message names the group and
   * each problem. Listeners hear of the groups whose version changed; the first publish marks the cache
   * synced and notifies every given group.
   */
  publish(snapshots: Partial<Readonly<Record<NodeGroup, Snapshot>>>): PublishResult {
    const entries = NODE_GROUPS.flatMap((g): Array<[NodeGroup, Snapshot]> => {
      const s = snapshots[g];
      return s ? [[g, s]] : [];
    });
    const problems = entries.flatMap(([g, s]) => checkConsistency(s).map((p) => `${g}: ${p}`));
    if (problems.length > 0)
      return { ok: false, message: `inconsistent snapshot refused: ${problems.join('; ')}` };
    const first = !this.isSynced;
    const changed: NodeGroup[] = [];
    for (const [g, s] of entries) {
      if (first || this.snapshots.get(g)?.version !== s.version) changed.push(g);
      this.snapshots.set(g, s);
    }
    this.isSynced = true;
    this.publishSeq++;
    if (changed.length > 0) for (const l of [...this.listeners]) l(changed);
    return { ok: true, changed, seq: this.publishSeq };
  }

  /** Returns the unsubscribe function. */
  subscribe(listener: CacheListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
