// Slack incoming-webhook payload (also chat.postMessage with a bot token): one legacy attachment coloured
// by severity, authored by `name.namespace`, with the message text and its facts as title/value fields.
import { canaryLabel, messageFacts } from './facts.js';
import type { Notification, Severity } from './notifier.js';

export interface SlackField {
  title: string;
  value: string;
  short: boolean;
}

export interface SlackAttachment {
  color: string;
  author_name: string;
  text: string;
  fallback: string;
  mrkdwn_in: string[];
  fields: SlackField[];
}

export interface SlackPayload {
  channel?: string;
  username?: string;
  attachments: SlackAttachment[];
}

export interface ChatOptions {
  /** Sent only when set; an incoming webhook otherwise posts to its own channel as its own user. */
  channel?: string | undefined;
  username?: string | undefined;
}

/** Slack's attachment colour keywords: green, amber, red. */
const SLACK_COLOR: Record<Severity, string> = { info: 'good', warn: 'warning', error: 'danger' };

/** Slack mrkdwn treats &, < and > as control characters; they must be sent as entities. */
export const escapeSlack = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Builds a Slack-shaped message. `colors` and `escape` let Slack-compatible services (Discord, Rocket.Chat)
 * reuse the shape with their own colour syntax and markup rules.
 */
export function slackShape(
  msg: Notification,
  chat: ChatOptions,
  colors: Record<Severity, string>,
  escape: (s: string) => string,
): SlackPayload {
  const author = canaryLabel(msg);
  return {
    ...(chat.channel ? { channel: chat.channel } : {}),
    ...(chat.username ? { username: chat.username } : {}),
    attachments: [attachment(msg, author, colors, escape)],
  };
}

function attachment(
  msg: Notification,
  author: string,
  colors: Record<Severity, string>,
  escape: (s: string) => string,
): SlackAttachment {
  return {
    color: colors[msg.severity],
    author_name: author,
    text: escape(msg.text),
    fallback: `${author}: ${msg.text}`,
    mrkdwn_in: ['text'],
    fields: messageFacts(msg).map((f) => ({ title: f.title, value: escape(f.value), short: f.short })),
  };
}

export function slackPayload(msg: Notification, chat: ChatOptions): SlackPayload {
  return slackShape(msg, chat, SLACK_COLOR, escapeSlack);
}
