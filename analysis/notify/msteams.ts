// Microsoft Teams incoming-webhook payload: a legacy actionable MessageCard (@type, @context, themeColor,
// summary, one section with the text as activityTitle, `name.namespace` as subtitle and the facts).
import { canaryLabel, messageFacts, SEVERITY_HEX } from './facts.js';
import type { Notification } from './notifier.js';

export interface MSTeamsFact {
  name: string;
  value: string;
}

export interface MSTeamsSection {
  activityTitle: string;
  activitySubtitle: string;
  facts: MSTeamsFact[];
}

export interface MSTeamsPayload {
  '@type': 'MessageCard';
  '@context': 'http://schema.org/extensions';
  themeColor: string;
  summary: string;
  sections: MSTeamsSection[];
}

export function msteamsPayload(msg: Notification): MSTeamsPayload {
  const label = canaryLabel(msg);
  return {
    '@type': 'MessageCard',
    '@context': 'http://schema.org/extensions',
    themeColor: SEVERITY_HEX[msg.severity],
    summary: `${label}: ${msg.text}`,
    sections: [
      {
        activityTitle: msg.text,
        activitySubtitle: label,
        facts: messageFacts(msg).map((f) => ({ name: f.title, value: f.value })),
      },
    ],
  };
}
