// Google Chat incoming-webhook payload: one Cards v2 card (cardsV2[].card) with `name.namespace` and the
// phase in the header, the text in a severity-coloured paragraph and one decoratedText widget per fact.
import { canaryLabel, messageFacts, SEVERITY_HEX } from './facts.js';
import type { Notification } from './notifier.js';

export type GChatWidget =
  | { textParagraph: { text: string } }
  | { decoratedText: { topLabel: string; text: string; wrapText: boolean } };

export interface GChatPayload {
  cardsV2: Array<{
    cardId: string;
    card: {
      header: { title: string; subtitle: string };
      sections: Array<{ widgets: GChatWidget[] }>;
    };
  }>;
}

/** Card text is a small HTML subset: &, < and > must be entities. */
const escapeHtml = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function gchatPayload(msg: Notification): GChatPayload {
  const label = canaryLabel(msg);
  const sections: Array<{ widgets: GChatWidget[] }> = [
    {
      widgets: [
        {
          textParagraph: {
            text: `<font color="#${SEVERITY_HEX[msg.severity]}"><b>${escapeHtml(msg.text)}</b></font>`,
          },
        },
      ],
    },
  ];
  const facts = messageFacts(msg);
  // A section must hold at least one widget, so the facts section exists only when there are facts.
  if (facts.length > 0) {
    sections.push({
      widgets: facts.map((f) => ({
        decoratedText: { topLabel: f.title, text: escapeHtml(f.value), wrapText: true },
      })),
    });
  }
  return {
    cardsV2: [
      {
        cardId: 'fledge-canary',
        card: { header: { title: label, subtitle: `${msg.phase} · ${msg.severity}` }, sections },
      },
    ],
  };
}
