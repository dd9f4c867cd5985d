// The facts of a notification as (title, value) pairs, shared by every chat payload shape so that all
// services show the same information in the same order.
import type { Notification, Severity } from './notifier.js';

export interface Fact {
  title: string;
  value: string;
  /** Short facts may be laid out side by side (Slack's `short`). */
  short: boolean;
}

const KNOWN_FIELDS = ['target', 'weight', 'failedChecks', 'revision'] as const;

/** `name.namespace`, the way Flagger names a canary in its messages. */
export const canaryLabel = (msg: Notification): string => `${msg.canary.name}.${msg.canary.namespace}`;

/**
 * Target, weight, failed checks and revision (when set), then any other field under its own key in the
 * caller's order, then one fact per verdict (`metric`: `outcome: reason`).
 */
export function messageFacts(msg: Notification): Fact[] {
  const facts: Fact[] = [];
  const f = msg.fields;
  if (f.target !== undefined) facts.push({ title: 'Target', value: f.target, short: true });
  if (f.weight !== undefined) facts.push({ title: 'Weight', value: `${f.weight}%`, short: true });
  if (f.failedChecks !== undefined) {
    facts.push({ title: 'Failed checks', value: String(f.failedChecks), short: true });
  }
  if (f.revision !== undefined) facts.push({ title: 'Revision', value: f.revision, short: true });
  for (const [key, value] of Object.entries(f)) {
    if (value === undefined || (KNOWN_FIELDS as readonly string[]).includes(key)) continue;
    facts.push({ title: key, value: String(value), short: true });
  }
  for (const v of msg.verdicts ?? []) {
    facts.push({ title: v.metric, value: `${v.outcome}: ${v.reason}`, short: false });
  }
  return facts;
}

/** Colours by severity as hex RGB without '#': blue, amber, red. */
export const SEVERITY_HEX: Record<Severity, string> = { info: '0076D7', warn: 'FFA500', error: 'FF0000' };
