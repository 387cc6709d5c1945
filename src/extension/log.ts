import * as vscode from 'vscode';
import { redactUrl } from '../registry';
import { LOG_NAME } from './settings';

/**
 * The extension's one LogOutputChannel. Every line carries a `[component]` tag; every message is
 * redacted before it is written: URLs lose their passwords, and any secret the extension holds
 * (registered with `addSecret`) is replaced by `***`.
 */
let channel: vscode.LogOutputChannel | undefined;
const secrets = new Set<string>();

const URL_PATTERN = /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]+/gi;

export function redact(message: string): string {
  let out = message.replace(URL_PATTERN, (url) => redactUrl(url));
  for (const s of secrets) {
    out = out.split(s).join('***');
  }
  return out;
}

/** Makes sure `secret` never appears in the log (passwords read from secret storage). */
export function addSecret(secret: string | undefined): void {
  if (secret && secret.length >= 1) {
    secrets.add(secret);
  }
}

/** The last lines written (already redacted), so tests can check what reached the log. */
const recent: string[] = [];
const RECENT_MAX = 2000;

function remember(line: string): string {
  recent.push(line);
  if (recent.length > RECENT_MAX) {
    recent.splice(0, recent.length - RECENT_MAX);
  }
  return line;
}

export function recentLogLines(): readonly string[] {
  return recent;
}

export function getChannel(): vscode.LogOutputChannel {
  if (!channel) {
    channel = vscode.window.createOutputChannel(LOG_NAME, { log: true });
  }
  return channel;
}

export function disposeLog(): void {
  channel?.dispose();
  channel = undefined;
}

function describe(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' ? `${err.message} (${code})` : err.message;
  }
  return String(err);
}

export interface Logger {
  trace(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string, err?: unknown): void;
}

/** A logger for one component: `logger('tree').info('…')` writes `[tree] …`. */
export function logger(component: string): Logger {
  const tag = `[${component}] `;
  return {
    trace: (m) => getChannel().trace(remember(redact(tag + m))),
    info: (m) => getChannel().info(remember(redact(tag + m))),
    warn: (m) => getChannel().warn(remember(redact(tag + m))),
    error: (m, err) => getChannel().error(remember(redact(tag + m + (err === undefined ? '' : `: ${describe(err)}`)))),
  };
}

/** The text of an error for a person, redacted. */
export function errorMessage(err: unknown): string {
  return redact(describe(err).replace(/ \((INVALID_KEY|INVALID_VALUE|INVALID_CONFIG|NOT_FOUND|ALREADY_EXISTS|UNAVAILABLE|CORRUPT|LOCKED|CLOSED|UNSUPPORTED)\)$/, ''));
}
