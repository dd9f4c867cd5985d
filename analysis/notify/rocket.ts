// Rocket.Chat incoming-webhook payload: Slack-like attachments (color, author_name, text, fields) with hex
// colours, since Rocket.Chat does not know Slack's colour keywords; its text is Markdown, not Slack mrkdwn.
import { SEVERITY_HEX } from './facts.js';
import type { Notification, Severity } from './notifier.js';
import type { ChatOptions, SlackPayload } from './slack.js';
import { slackShape } from './slack.js';

const ROCKET_COLOR: Record<Severity, string> = {
  info: `#${SEVERITY_HEX.info}`,
  warn: `#${SEVERITY_HEX.warn}`,
  error: `#${SEVERITY_HEX.error}`,
};

export function rocketPayload(msg: Notification, chat: ChatOptions): SlackPayload {
  return slackShape(msg, chat, ROCKET_COLOR, (s) => s);
}
