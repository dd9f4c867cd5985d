// Discord: Flagger sends its Slack payload to Discord's "Execute Slack-Compatible Webhook" endpoint, which is
// the channel webhook URL with `/slack` appended (POST /webhooks/{id}/{token}/slack).
import type { Notification } from './notifier.js';
import type { ChatOptions, SlackPayload } from './slack.js';
import { slackPayload } from './slack.js';

/** The webhook URL with `/slack` appended to its path (once), query kept. Throws on an unparsable URL. */
export function discordUrl(address: string): string {
  const u = new URL(address);
  const path = u.pathname.replace(/\/+$/, '');
  if (!path.endsWith('/slack')) u.pathname = `${path}/slack`;
  return u.href;
}

/** The Slack payload unchanged: Discord translates Slack attachments, colours and mrkdwn itself. */
export function discordPayload(msg: Notification, chat: ChatOptions): SlackPayload {
  return slackPayload(msg, chat);
}
