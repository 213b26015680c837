import { config, type ParsePayload } from 'zod/v4/core';
import en from 'zod/v4/locales/en.js';

/**
 * The schema library's messages in English for every schema, whichever build defines it. Schemas written with
 * `zod/mini` (the smaller build, on the marketplace's path) do not set a language of their own: a module defining
 * them imports this one first, so its refusals read exactly as the full build's do ("Invalid option: expected one
 * of …", "Invalid URL").
 */
config(en());

/** Refuses a transform's input with `message` (a `code: custom` issue, as the full build's `ctx.addIssue` records it). */
export function addCustomIssue(payload: ParsePayload, message: string): void {
  payload.issues.push({ code: 'custom', message, input: payload.value });
}
