import * as z from 'zod';
import { fileNameProblem, isProofContentType, MAX_FILE_NAME_CHARS, PROOF_CONTENT_TYPES, PROOF_KINDS, sha256Forms } from './proofs.ts';

/**
 * The seller's request to upload one delivery proof (spec §8.3): its schema, with the descriptions the seller API's
 * OpenAPI document shows. Only the seller API reads it, so the functions that need the proof rules alone
 * (lib/supervision/proofs.ts) do not bundle the schema library's full build.
 */

const allowedList = PROOF_CONTENT_TYPES.join(', ');

/** The body of a seller's request to upload one proof, with files of at most `maxBytes`. */
export function proofRequestSchemaFor(maxBytes: number) {
  if (!Number.isInteger(maxBytes) || maxBytes < 1) throw new RangeError('maxBytes must be a positive integer');
  return z.strictObject({
    kind: z
      .enum(PROOF_KINDS)
      .describe('requirement (requirement document / SOW), acceptance, license-screenshot, deployment, appeal-evidence, other'),
    fileName: z
      .string()
      .superRefine((name, ctx) => {
        const problem = fileNameProblem(name);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .describe(`The file's name as the buyer and reviewers will see it: 1..${MAX_FILE_NAME_CHARS} characters, no path`),
    contentType: z
      .string()
      .trim()
      .toLowerCase()
      .refine(isProofContentType, { message: `contentType is not accepted for proofs; accepted: ${allowedList}` })
      .describe(`One of ${allowedList}; the uploaded bytes must be of this type`),
    size: z
      .number()
      .int()
      .min(1)
      .max(maxBytes, { message: `size must be at most ${maxBytes} bytes` })
      .describe('Exact size in bytes'),
    sha256: z
      .string()
      .refine((value) => sha256Forms(value) !== undefined, { message: 'sha256 must be 64 hex characters or 44 base64 characters' })
      .describe("The file's SHA-256, as 64 hex characters or 44 base64 characters"),
    serviceStartAt: z.iso
      .datetime({ offset: true })
      .optional()
      .describe('Actual service start (ISO 8601); without it validity starts at acceptance'),
  });
}

export type ProofRequest = z.infer<ReturnType<typeof proofRequestSchemaFor>>;
