// Manual gates of the load tester (Flagger's semantics): one confirm gate and one rollback gate per canary,
// both closed until opened.
export type GateKind = 'gate' | 'rollback';

export class GateStore {
  private readonly opened = new Set<string>();

  private key(kind: GateKind, canary: string): string {
    return kind === 'rollback' ? `rollback.${canary}` : canary;
  }

  open(kind: GateKind, canary: string): void {
    this.opened.add(this.key(kind, canary));
  }

  close(kind: GateKind, canary: string): void {
    this.opened.delete(this.key(kind, canary));
  }

  /** A gate never opened (or closed again) is closed. */
  isOpen(kind: GateKind, canary: string): boolean {
    return this.opened.has(this.key(kind, canary));
  }
}
