import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../scripts/operator/main.ts';

/**
 * The operator CLI's documentation agrees with its `--help`: docs/operations.md lists every command as the help
 * prints it, the README names every area with its commands, and every `npx koogallery <area> <command> --option`
 * written in the README or docs/operations.md is a command that takes that option.
 */

const README = readFileSync('README.md', 'utf8');
const OPERATIONS = readFileSync('docs/operations.md', 'utf8');
const GLOBAL_OPTIONS = ['--stage', '--region', '--json', '--help'];
const AREAS = [...new Set(COMMANDS.map((c) => c.area))];

/** Each `npx koogallery <area> <command> …` of a text, with the options written after it on the same line. */
function invocations(text: string): { line: string; area: string; name: string; options: string[] }[] {
  return [...text.matchAll(/npx koogallery ([a-z]+) ([a-z]+)([^`\n#]*)/g)].map((m) => ({
    line: m[0],
    area: m[1]!,
    name: m[2]!,
    options: [...m[3]!.matchAll(/(--[a-z][a-z-]*)/g)].map((o) => o[1]!),
  }));
}

describe('the operator CLI’s documentation', () => {
  it('docs/operations.md lists every command with its synopsis and summary as --help prints them', () => {
    for (const command of COMMANDS) {
      const escape = (s: string) => s.replace(/\|/g, '\\|');
      expect(OPERATIONS, command.synopsis).toContain(`| \`koogallery ${escape(command.synopsis)}\` | ${escape(command.summary)} |`);
    }
  });

  it('the README names every area with its commands', () => {
    const prose = README.replace(/\s+/g, ' ');
    for (const area of AREAS) {
      const names = COMMANDS.filter((c) => c.area === area).map((c) => c.name);
      expect(prose, area).toContain(`\`${area}\` (${names.join(', ')})`);
    }
  });

  it('every command written in the README and docs/operations.md exists and takes the options written with it', () => {
    const written = [...invocations(README), ...invocations(OPERATIONS)];
    expect(written.length).toBeGreaterThan(10);
    for (const { line, area, name, options } of written) {
      const command = COMMANDS.find((c) => c.area === area && c.name === name);
      expect(command, line).toBeDefined();
      const known = [...GLOBAL_OPTIONS, ...Object.keys(command!.options ?? {}).map((o) => `--${o}`)];
      for (const option of options) expect(known, `${line}: ${option}`).toContain(option);
    }
  });
});
