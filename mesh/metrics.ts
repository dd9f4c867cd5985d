// The mesh's Prometheus metrics (SPEC §6): connected proxies, pushes, NACKs, build+publish duration, and
// convergence (a change → every proxy ACKed it). Registered on the Registry the caller passes.
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { NodeGroup } from './cache.js';
import type { AdsMetrics } from './xds/ads.js';

/** The short type name (`Cluster`, `RouteConfiguration`, …) of an Envoy type URL, for labels. */
const typeLabel = (typeUrl: string): string => typeUrl.slice(typeUrl.lastIndexOf('.') + 1);

export interface MeshMetrics {
  ads: AdsMetrics;
  published(ok: boolean, durationMs: number): void;
  converged(seconds: number): void;
}

export function createMeshMetrics(registry: Registry): MeshMetrics {
  const registers = [registry];
  const connected = new Gauge({
    name: 'fledge_xds_connected_proxies',
    help: 'xDS streams connected now, by client kind',
    labelNames: ['kind'],
    registers,
  });
  const pushes = new Counter({
    name: 'fledge_xds_pushes_total',
    help: 'xDS responses sent, by resource type and client kind',
    labelNames: ['type', 'kind'],
    registers,
  });
  const nacks = new Counter({
    name: 'fledge_xds_nacks_total',
    help: 'xDS responses rejected (NACKed) by a proxy, by resource type and client kind',
    labelNames: ['type', 'kind'],
    registers,
  });
  const publishDuration = new Histogram({
    name: 'fledge_xds_push_duration_seconds',
    help: 'Time to build the mesh model, translate, encode and publish one snapshot set',
    labelNames: ['result'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });
  const convergence = new Histogram({
    name: 'fledge_xds_convergence_seconds',
    help: 'Time from an input change to the last connected proxy ACKing the config that carries it',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  for (const kind of ['sidecar', 'gateway', 'proxyless'] satisfies NodeGroup[]) connected.set({ kind }, 0);
  return {
    ads: {
      pushed: (typeUrl, kind) => pushes.inc({ type: typeLabel(typeUrl), kind }),
      nacked: (typeUrl, kind) => nacks.inc({ type: typeLabel(typeUrl), kind }),
      connected: (delta, kind) => connected.inc({ kind }, delta),
    },
    published: (ok, durationMs) =>
      publishDuration.observe({ result: ok ? 'ok' : 'refused' }, durationMs / 1000),
    converged: (seconds) => convergence.observe(seconds),
  };
}
