// The mesh's inputs from the API server: wrapped informers on Services, EndpointSlices, Pods, Nodes,
// VirtualServices and DestinationRules, read as one MeshInputs, and change events that say whether a change
// only moved route weights (those are pushed at once, everything else is debounced).
import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import type { InformerLogger } from '../operator/k8s/informer.js';
import { identityAndLabels, Informer } from '../operator/k8s/informer.js';
import type { KubeNetworkingObject } from './kube.js';
import type { MeshInputs } from './model.js';

export type SourceKind = 'Service' | 'EndpointSlice' | 'Pod' | 'Node' | 'VirtualService' | 'DestinationRule';

export interface SourceChange {
  kind: SourceKind;
  namespace: string;
  name: string;
  /** A VirtualService update whose spec differs from the previous one only in route weights. */
  weightsOnly: boolean;
}

const NETWORKING_VERSION = 'v1';

const PATHS: Readonly<Record<SourceKind, string>> = {
  Service: '/api/v1/services',
  EndpointSlice: '/apis/discovery.k8s.io/v1/endpointslices',
  Pod: '/api/v1/pods',
  Node: '/api/v1/nodes',
  VirtualService: `/apis/networking.istio.io/${NETWORKING_VERSION}/virtualservices`,
  DestinationRule: `/apis/networking.istio.io/${NETWORKING_VERSION}/destinationrules`,
};

/** The spec with every `weight` removed, as text: equal for two versions that differ only in weights. */
export function specWithoutWeights(spec: unknown): string {
  return JSON.stringify(spec, (key, value: unknown) => (key === 'weight' ? undefined : value));
}

export class MeshSources {
  readonly synced: Promise<void>;
  private readonly informers: Record<SourceKind, Informer<KubernetesObject>>;
  private readonly listeners: Array<(c: SourceChange) => void> = [];
  /** VirtualService key → its spec without weights, to classify updates. */
  private readonly routeShapes = new Map<string, string>();

  constructor(kc: KubeConfig, log?: InformerLogger) {
    const make = (kind: SourceKind): Informer<KubernetesObject> => {
      // The model reads only the name and labels of Pods and Nodes: their caches keep nothing else.
      const transform = kind === 'Pod' || kind === 'Node' ? { transform: identityAndLabels } : {};
      const inf = new Informer<KubernetesObject>(
        kc,
        { path: PATHS[kind] },
        { ...(log ? { log } : {}), ...transform },
      );
      inf.on((event, obj) => this.onEvent(kind, event, obj));
      return inf;
    };
    this.informers = {
      Service: make('Service'),
      EndpointSlice: make('EndpointSlice'),
      Pod: make('Pod'),
      Node: make('Node'),
      VirtualService: make('VirtualService'),
      DestinationRule: make('DestinationRule'),
    };
    this.synced = Promise.all(Object.values(this.informers).map((i) => i.synced)).then(() => undefined);
  }

  onChange(listener: (c: SourceChange) => void): void {
    this.listeners.push(listener);
  }

  async start(): Promise<void> {
    await Promise.all(Object.values(this.informers).map((i) => i.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(Object.values(this.informers).map((i) => i.stop()));
  }

  /** Everything the informers hold now, as the model builder takes it. */
  inputs(): MeshInputs {
    const list = (k: SourceKind): readonly KubernetesObject[] => this.informers[k].list();
    return {
      services: list('Service'),
      endpointSlices: list('EndpointSlice'),
      pods: list('Pod'),
      nodes: list('Node'),
      virtualServices: list('VirtualService'),
      destinationRules: list('DestinationRule'),
    };
  }

  /** The informer's copy of one networking object (for status writes). */
  get(kind: SourceKind, namespace: string, name: string): KubernetesObject | undefined {
    return this.informers[kind].get(namespace, name);
  }

  private onEvent(kind: SourceKind, event: 'add' | 'update' | 'delete', obj: KubernetesObject): void {
    const namespace = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    let weightsOnly = false;
    if (kind === 'VirtualService') {
      const key = `${namespace}/${name}`;
      const shape = specWithoutWeights((obj as KubeNetworkingObject).spec);
      weightsOnly = event === 'update' && this.routeShapes.get(key) === shape;
      if (event === 'delete') this.routeShapes.delete(key);
      else this.routeShapes.set(key, shape);
    }
    const change: SourceChange = { kind, namespace, name, weightsOnly };
    for (const l of this.listeners) l(change);
  }
}
