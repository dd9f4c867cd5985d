// Generic webhook payload: the notification model itself as plain JSON, for receivers that render or route
// messages on their own.
import type { Notification } from './notifier.js';

/** The message with its keys in a fixed order; `verdicts` only when the message has them. */
export function genericPayload(msg: Notification): Notification {
  const payload: Notification = {
    canary: { name: msg.canary.name, namespace: msg.canary.namespace },
    phase: msg.phase,
    severity: msg.severity,
    text: msg.text,
    fields: { ...msg.fields },
  };
  if (msg.verdicts) payload.verdicts = msg.verdicts.map((v) => ({ ...v, threshold: { ...v.threshold } }));
  return payload;
}
