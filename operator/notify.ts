// Canary notifications: the AlertProviders a Canary's analysis.alerts name, turned into notifiers (cached per
// provider version, Secret data read once), and a notify() that never blocks or throws (SPEC §5.4).
import type { Logger } from 'pino';
import type { Canary, AlertProvider } from '../crds/schema/flagger.js';
import type { Notifier, Severity } from '../analysis/notify/notifier.js';
import { alertWants, createNotifier } from '../analysis/notify/notifier.js';
import type { CanaryNotify } from './reconcile.js';

export interface NotifyDeps {
  alertProvider(namespace: string, name: string): AlertProvider | undefined;
  secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
  log: Logger;
}

export class CanaryNotifier {
  /** `<ns>/<name>@<resourceVersion>` → notifier (or the error that stops one from being built). */
  private readonly notifiers = new Map<string, Promise<Notifier | string>>();

  constructor(private readonly deps: NotifyDeps) {}

  readonly notify: CanaryNotify = (canary, severity, message) => {
    void this.send(canary, severity, message).catch((err: unknown) =>
      this.deps.log.warn({ error: String(err) }, 'notification not sent'),
    );
  };

  private async send(canary: Canary, severity: Severity, text: string): Promise<void> {
    const ns = canary.metadata.namespace;
    for (const alert of canary.spec.analysis.alerts) {
      const sev = alert.severity === '' || alert.severity === undefined ? 'info' : alert.severity;
      if (!alertWants(sev, severity)) continue;
      const pns = alert.providerRef.namespace ?? ns;
      const provider = this.deps.alertProvider(pns, alert.providerRef.name);
      if (!provider) continue;
      const notifier = await this.notifierFor(pns, provider);
      if (typeof notifier === 'string') {
        this.deps.log.warn({ canary: canary.metadata.name, namespace: ns, alert: alert.name }, notifier);
        continue;
      }
      const s = canary.status ?? {};
      notifier.notify({
        canary: { name: canary.metadata.name, namespace: ns },
        phase: s.phase ?? '',
        severity,
        text,
        fields: {
          target: `${canary.spec.targetRef.kind}/${canary.spec.targetRef.name}`,
          phase: s.phase ?? '',
          weight: s.canaryWeight ?? 0,
          failedChecks: s.failedChecks ?? 0,
          ...(s.lastAppliedSpec ? { revision: s.lastAppliedSpec } : {}),
        },
      });
    }
  }

  private notifierFor(namespace: string, provider: AlertProvider): Promise<Notifier | string> {
    const key = `${namespace}/${provider.metadata.name}@${String(provider.metadata.resourceVersion ?? '')}`;
    let made = this.notifiers.get(key);
    if (!made) {
      made = (async () => {
        const ref = provider.spec.secretRef;
        const secret = ref ? await this.deps.secret(namespace, ref.name) : undefined;
        const r = createNotifier(
          {
            name: provider.metadata.name,
            type: provider.spec.type,
            ...(provider.spec.channel ? { channel: provider.spec.channel } : {}),
            ...(provider.spec.username ? { username: provider.spec.username } : {}),
            ...(provider.spec.address ? { address: provider.spec.address } : {}),
            ...(provider.spec.proxy ? { proxy: provider.spec.proxy } : {}),
            ...(secret ? { secret } : {}),
          },
          { logger: this.deps.log },
        );
        return r.ok ? r.value : r.message;
      })();
      this.notifiers.set(key, made);
    }
    return made;
  }

  async close(): Promise<void> {
    const all = await Promise.all(this.notifiers.values());
    await Promise.all(all.flatMap((n) => (typeof n === 'string' ? [] : [n.close({ drainMs: 2000 })])));
  }
}
