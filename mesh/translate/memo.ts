// Per-Service route translations kept from one build to the next. A Service port's routes read the Service,
// the VirtualService bound to its host, and other Services and DestinationRules; while the last two stay the
// same (the caller clears the memo when they change), the result depends only on the Service port and the
// content of its VirtualService, which is the key. Generational: what a build does not use is dropped.
import type { VirtualServiceModel } from '../model.js';
import type { TranslateContext } from './context.js';

interface Entry {
  value: unknown;
  /** Notes the translation added, added again on every reuse. */
  notes: readonly string[];
}

export class RouteMemo {
  private previous = new Map<string, Entry>();
  private current = new Map<string, Entry>();
  /**
   * A number per spec object: a build takes an unchanged VirtualService's spec object from the checks it
   * kept (SpecChecks), so the same object means the same content; a new object gets a new number.
   */
  private readonly specIds = new WeakMap<object, number>();
  private nextSpecId = 0;
  /** Values derived from one Service list object (see byServices). */
  private readonly layouts = new WeakMap<object, unknown>();
  /** Translations reused since construction (for tests and benchmarks). */
  hits = 0;

  /**
   * The value for `key` and the VirtualService bound to the port's host (by content), made by `make` when
   * neither this build nor the previous one made it. `make` must not read other VirtualServices.
   */
  get<T>(ctx: TranslateContext, key: string, vs: VirtualServiceModel | undefined, make: () => T): T {
    const full = `${ctx.kind}\u0000${key}\u0000${vs === undefined ? '' : this.vsKey(vs)}`;
    const found = this.current.get(full) ?? this.previous.get(full);
    if (found) {
      this.hits++;
      this.current.set(full, found);
      for (const n of found.notes) ctx.notes.add(n);
      return found.value as T;
    }
    const outer = ctx.notes;
    const own = new Set<string>();
    ctx.notes = own;
    let value: T;
    try {
      value = make();
    } finally {
      ctx.notes = outer;
    }
    for (const n of own) outer.add(n);
    this.current.set(full, { value, notes: [...own] });
    return value;
  }

  /** A value derived from the model's Service list alone, made once per list object. */
  byServices<T>(services: object, make: () => T): T {
    if (this.layouts.has(services)) return this.layouts.get(services) as T;
    const value = make();
    this.layouts.set(services, value);
    return value;
  }

  /** After each build: forgets what it did not use. */
  rotate(): void {
    this.previous = this.current;
    this.current = new Map();
  }

  /** When Services or DestinationRules changed: nothing kept is valid any more. */
  clear(): void {
    this.previous = new Map();
    this.current = new Map();
  }

  /** Every field of the model, the spec by its object's number. */
  private vsKey(vs: VirtualServiceModel): string {
    let spec = this.specIds.get(vs.spec);
    if (spec === undefined) this.specIds.set(vs.spec, (spec = this.nextSpecId++));
    const { namespace, name, generation, creationTimestamp, meshBound, hosts, spec: _spec, ...rest } = vs;
    // A field added to the model must join the key: this stops compiling until it does.
    const none: Record<string, never> = rest;
    void none;
    return `${spec}\u0000${namespace}/${name}\u0000${generation}\u0000${creationTimestamp}\u0000${meshBound}\u0000${hosts.join(',')}`;
  }
}
