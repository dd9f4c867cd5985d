// Per-Service route translations kept from one build to the next. A Service port's routes read the Service,
// the VirtualService bound to its host, and other Services and DestinationRules; while the last two stay the
// same (the caller clears the memo when they change), the result depends only on the Service port and the
// content of its VirtualService, which the entry is checked against. Generational: what a build does not use
// is dropped.
import type { VirtualServiceModel } from '../model.js';
import type { ClientKind, TranslateContext } from './context.js';
import type { ProtoObject } from './proto.js';

interface Entry {
  /** The VirtualService the value was made with; undefined when none was bound. */
  vs: VirtualServiceModel | undefined;
  value: unknown;
  /** Notes the translation added, added again on every reuse. */
  notes: readonly string[];
}

type Generations = Record<ClientKind, Map<string, Entry>>;

const emptyGenerations = (): Generations => ({ sidecar: new Map(), proxyless: new Map() });

/** The fields sameVirtualService compares: a field added to the model stops this compiling until it joins. */
type Compared = 'namespace' | 'name' | 'generation' | 'creationTimestamp' | 'meshBound' | 'hosts' | 'spec';
const everyFieldCompared: Record<Exclude<keyof VirtualServiceModel, Compared>, never> = {};
void everyFieldCompared;

/**
 * Whether a translation made with VirtualService `a` holds for `b`: every field of the model equal, the
 * spec by its object (a build takes an unchanged VirtualService's spec object from the checks it kept,
 * SpecChecks, so the same object means the same content; another object counts as a change).
 */
function sameVirtualService(a: VirtualServiceModel | undefined, b: VirtualServiceModel | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  const { namespace, name, generation, creationTimestamp, meshBound, hosts, spec } = a;
  return (
    spec === b.spec &&
    namespace === b.namespace &&
    name === b.name &&
    generation === b.generation &&
    creationTimestamp === b.creationTimestamp &&
    meshBound === b.meshBound &&
    hosts.length === b.hosts.length &&
    hosts.every((h, i) => h === b.hosts[i])
  );
}

export class RouteMemo {
  private previous = emptyGenerations();
  private current = emptyGenerations();
  /** Translations reused since construction (for tests and benchmarks). */
  hits = 0;

  /**
   * The value for `key` (unique per client kind) made with the VirtualService bound to the port's host,
   * made by `make` when neither this build nor the previous one made it with an equal VirtualService.
   * `make` must not read other VirtualServices.
   */
  get<T>(ctx: TranslateContext, key: string, vs: VirtualServiceModel | undefined, make: () => T): T {
    const current = this.current[ctx.kind];
    const found = current.get(key) ?? this.previous[ctx.kind].get(key);
    if (found && sameVirtualService(found.vs, vs)) {
      this.hits++;
      current.set(key, found);
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
    current.set(key, { vs, value, notes: [...own] });
    return value;
  }

  /** After each build: forgets what it did not use. */
  rotate(): void {
    this.previous = this.current;
    this.current = emptyGenerations();
  }

  /** When Services or DestinationRules changed: nothing kept is valid any more. */
  clear(): void {
    this.previous = emptyGenerations();
    this.current = emptyGenerations();
  }
}

/**
 * Load assignments kept from one build to the next, by cluster name. One is made from the endpoints of its
 * Service port and its subset's labels alone; a build gives an unchanged port's endpoints as the same
 * array (EndpointIndex) and an unchanged subset's labels as the same object, so an entry holds while both
 * are those objects. Shared by the client kinds (a load assignment is the same for both). Generational.
 */
export class LoadAssignmentMemo {
  private previous = new Map<string, LoadAssignmentEntry>();
  private current = new Map<string, LoadAssignmentEntry>();
  /** Load assignments reused since construction (for tests and benchmarks). */
  hits = 0;

  get(name: string, endpoints: object, labels: object, make: () => ProtoObject): ProtoObject {
    const found = this.current.get(name) ?? this.previous.get(name);
    if (found && found.endpoints === endpoints && found.labels === labels) {
      this.hits++;
      this.current.set(name, found);
      return found.value;
    }
    const value = make();
    this.current.set(name, { endpoints, labels, value });
    return value;
  }

  /** After each build that made load assignments: forgets what it did not use. */
  rotate(): void {
    this.previous = this.current;
    this.current = new Map();
  }
}

interface LoadAssignmentEntry {
  endpoints: object;
  labels: object;
  value: ProtoObject;
}
