import type { Log } from '#lib/log.ts';

export interface LogLine {
  level: 'info' | 'warn' | 'error';
  message: string;
  extra?: Record<string, unknown> | undefined;
}

/** A logger that keeps its lines, for tests that look at what a flow logged. */
export function recordingLog(): { log: Log; lines: LogLine[]; messages: (level: LogLine['level']) => string[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (message: string, extra?: Record<string, unknown>) => void lines.push({ level, message, extra });
  return {
    log: { info: at('info'), warn: at('warn'), error: at('error') },
    lines,
    messages: (level) => lines.filter((l) => l.level === level).map((l) => l.message),
  };
}
