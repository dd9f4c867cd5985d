// Watch streams over the store: replay from a resourceVersion (or synthetic ADDED for the current
// state), then live events, with selector transitions turned into ADDED/DELETED as kube does.
import type { Api, Selectors } from './api.js';
import type { DResult } from './meta.js';
import { failWith } from './meta.js';
import { storageKey } from './registry.js';
import type { StoreEvent } from './store.js';
import type { JsonObject, ResourceType } from './types.js';
import { isObject } from './types.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchSink {
  event(type: WatchEventType, object: JsonObject): void;
  /** Called when the watch ends by itself (too-old resourceVersion). */
  end(): void;
}

export interface WatchRequest {
  type: ResourceType;
  namespace?: string;
  selectors: Selectors;
  resourceVersion?: string;
}

export interface WatchHandle {
  stop(): void;
  /** The resourceVersion of the last event sent (for bookmarks). */
  lastRv(): number;
}

/**
 * Starts a watch. Fails (as data) only for a malformed resourceVersion; a too-old one is an
 * ERROR event with a 410 Expired Status on a 200 stream, as kube-apiserver answers.
 */
export function startWatch(api: Api, req: WatchRequest, sink: WatchSink): DResult<WatchHandle> {
  const t = req.type;
  const key = storageKey(t);
  const rvParam = req.resourceVersion ?? '';
  let fromRv: number | undefined;
  if (rvParam !== '' && rvParam !== '0') {
    if (!/^\d+$/.test(rvParam)) {
      return failWith(
        500,
        '' as never,
        `resourceVersion: Invalid value: "${rvParam}": strconv.ParseUint: parsing "${rvParam}": invalid syntax`,
      );
    }
    fromRv = Number(rvParam);
  }
  const inScope = (o: JsonObject): boolean => {
    if (!req.namespace || !t.namespaced) return true;
    return isObject(o.metadata) && o.metadata.namespace === req.namespace;
  };
  const visible = (o: JsonObject | undefined): boolean =>
    o !== undefined && inScope(o) && api.matches(t, req.selectors, o);
  let last = api.store.currentRv();
  let stopped = false;

  const deliver = (e: StoreEvent): void => {
    if (stopped) return;
    if (fromRv !== undefined && e.rv <= fromRv) return;
    const now = visible(e.object);
    const before = e.type === 'ADDED' ? false : visible(e.previous);
    let type: WatchEventType | undefined;
    if (e.type === 'DELETED') type = before || now ? 'DELETED' : undefined;
    else if (e.type === 'ADDED') type = now ? 'ADDED' : undefined;
    else if (now && before) type = 'MODIFIED';
    else if (now) type = 'ADDED';
    else if (before) type = 'DELETED';
    last = e.rv;
    if (type) sink.event(type, api.sharedView(t, e.object));
  };

  if (fromRv !== undefined) {
    const past = api.store.since(key, fromRv);
    if (!Array.isArray(past)) {
      sink.event('ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${fromRv} (${past.oldest})`,
        reason: 'Expired',
        code: 410,
      });
      sink.end();
      return { ok: true, value: { stop: () => undefined, lastRv: () => last } };
    }
    const unsubscribe = api.store.subscribe(key, deliver);
    for (const e of past) deliver(e);
    return {
      ok: true,
      value: {
        stop: () => {
          stopped = true;
          unsubscribe();
        },
        lastRv: () => last,
      },
    };
  }
  // No resourceVersion: the current state as synthetic ADDED events, then changes.
  const startRv = api.store.currentRv();
  for (const o of api.store.list(key, t.namespaced ? req.namespace : undefined)) {
    if (visible(o)) sink.event('ADDED', api.view(t, o));
  }
  fromRv = startRv;
  last = startRv;
  const unsubscribe = api.store.subscribe(key, deliver);
  return {
    ok: true,
    value: {
      stop: () => {
        stopped = true;
        unsubscribe();
      },
      lastRv: () => Math.max(last, api.store.currentRv()),
    },
  };
}
