// Test helper: Kubernetes objects from multi-document YAML, sorted into the mesh's inputs by kind.
import { readFileSync } from 'node:fs';
import YAML from 'yaml';
import type { MeshInputs } from '../../mesh/model.js';
import type {
  KubeEndpointSlice,
  KubeNetworkingObject,
  KubeNode,
  KubePod,
  KubeService,
} from '../../mesh/kube.js';

export interface MutableInputs {
  services: KubeService[];
  endpointSlices: KubeEndpointSlice[];
  pods: KubePod[];
  nodes: KubeNode[];
  virtualServices: KubeNetworkingObject[];
  destinationRules: KubeNetworkingObject[];
}

/** The objects of a YAML stream as mesh inputs; an unexpected kind throws (a broken test file). */
export function inputsFromYaml(text: string): MutableInputs & MeshInputs {
  const out: MutableInputs = {
    services: [],
    endpointSlices: [],
    pods: [],
    nodes: [],
    virtualServices: [],
    destinationRules: [],
  };
  for (const doc of YAML.parseAllDocuments(text)) {
    const obj = doc.toJS() as { kind?: string } | null;
    if (obj === null) continue;
    switch (obj.kind) {
      case 'Service':
        out.services.push(obj as KubeService);
        break;
      case 'EndpointSlice':
        out.endpointSlices.push(obj as KubeEndpointSlice);
        break;
      case 'Pod':
        out.pods.push(obj as KubePod);
        break;
      case 'Node':
        out.nodes.push(obj as KubeNode);
        break;
      case 'VirtualService':
        out.virtualServices.push(obj);
        break;
      case 'DestinationRule':
        out.destinationRules.push(obj);
        break;
      default:
        throw new Error(`unexpected kind ${String(obj.kind)} in test input`);
    }
  }
  return out;
}

export const inputsFromFile = (file: string): MutableInputs & MeshInputs =>
  inputsFromYaml(readFileSync(file, 'utf8'));
