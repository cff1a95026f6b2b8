// Log lines for the worker and the servers: text as before, or (LOG_FORMAT=json) one JSON
// object a line that a log pipeline indexes without parsing. The worker's logger is the
// SDK runtime's, so the SDK's own lines, workflow `log` calls and activity `log` calls all
// come through it; lines about one conversation carry conversationId, runId and runtimeId
// (added by the log-attribute interceptors on both sides). LOG_LEVEL applies to ours; the
// SDK's own components stay one step quieter at info, as its INFO lists every bundled module.
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';

export type LogFormat = 'text' | 'json';
export type AppLogLevel = 'debug' | 'info' | 'warn' | 'error';

const RANK: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };
/** Workflow and activity lines are the application's; the rest are the SDK's own. */
const APPLICATION_COMPONENTS = new Set(['workflow', 'activity']);

export interface LoggerOptions {
  readonly level: AppLogLevel;
  readonly format: LogFormat;
  /** Names the process in JSON lines, e.g. worker, runtime-api, codec-server. */
  readonly component: string;
  /** @default process.stderr.write */
  readonly write?: (line: string) => void;
}

export function createLogger(options: LoggerOptions): Logger {
  const write = options.write ?? ((line: string) => void process.stderr.write(line));
  const appRank = RANK[options.level.toUpperCase() as LogLevel];
  const sdkRank = options.level === 'info' ? RANK.WARN : appRank;
  const log = (level: LogLevel, message: string, meta: LogMetadata = {}) => {
    const component = typeof meta.sdkComponent === 'string' ? meta.sdkComponent : undefined;
    const threshold = component && !APPLICATION_COMPONENTS.has(component) ? sdkRank : appRank;
    if (RANK[level] < threshold) return;
    write(options.format === 'json' ? jsonLine(options.component, level, message, meta) : textLine(level, message, meta));
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

/** A server's `(line) => void` log as lines of `logger` at info. */
export function lineLog(logger: Logger): (line: string) => void {
  return (line) => logger.info(line);
}

function jsonLine(component: string, level: LogLevel, message: string, meta: LogMetadata): string {
  return `${JSON.stringify({ time: new Date().toISOString(), level: level.toLowerCase(), component, message, ...plain(meta) })}\n`;
}

function textLine(level: LogLevel, message: string, meta: LogMetadata): string {
  const fields = Object.entries(plain(meta))
    .filter(([key]) => key !== 'sdkComponent')
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return `${new Date().toISOString()} [${level}] ${message}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}\n`;
}

/** Never written: an activity's task token is enough to complete or fail it. */
const WITHHELD = new Set(['taskToken']);

/** Errors as their name and message (a stack would break the one-line rule); bigint and the like as strings. */
function plain(meta: LogMetadata): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(meta)) {
    if (value === undefined || WITHHELD.has(key)) continue;
    out[key] = value instanceof Error ? `${value.name}: ${value.message}` : typeof value === 'bigint' ? String(value) : value;
  }
  return out;
}

/**
 * What a server's banners and `(line) => void` log write: plain lines on stdout as before,
 * or JSON lines at info naming the server. Undefined level means info.
 */
export function serverLineLog(settings: { LOG_FORMAT: LogFormat; LOG_LEVEL: AppLogLevel }, component: string): (line: string) => void {
  if (settings.LOG_FORMAT !== 'json') return (line) => void process.stdout.write(`${line}\n`);
  return lineLog(createLogger({ level: settings.LOG_LEVEL, format: 'json', component, write: (line) => void process.stdout.write(line) }));
}

/** The SDK runtime's logger for a worker: JSON lines with LOG_FORMAT=json; undefined keeps the SDK's own text logger. */
export function workerLogger(settings: { LOG_FORMAT: LogFormat; LOG_LEVEL: AppLogLevel }): Logger | undefined {
  return settings.LOG_FORMAT === 'json' ? createLogger({ level: settings.LOG_LEVEL, format: 'json', component: 'worker' }) : undefined;
}
