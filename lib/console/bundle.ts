/**
 * The seller console as built (scripts/console/build.ts): its page and its assets, by path under `/console/`.
 * The page is `index.html`; assets are `assets/<name>-<hash>.<ext>`, so a changed file always has a new name.
 */

export interface ConsoleFile {
  contentType: string;
  /** The file's text (the console is HTML, JavaScript and CSS only). */
  body: string;
}

export interface ConsoleBundle {
  /** `index.html` and `assets/…` → the file. */
  files: Record<string, ConsoleFile>;
}

export const INDEX_FILE = 'index.html';
export const ASSETS_DIR = 'assets';
