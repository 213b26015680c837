/**
 * Uploading a file from the browser through a presigned POST form the seller API answered: the file's SHA-256
 * computed in the page (WebCrypto), then a multipart POST of the form's fields and the file to the bucket's URL.
 */

/** The SHA-256 of the bytes as 64 lowercase hex characters. */
export async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

export interface PresignedPost {
  url: string;
  fields: Record<string, string>;
}

/** POSTs the file with the form's fields (the file last, as S3 requires); the bucket's refusal is an Error. */
export async function postToBucket(form: PresignedPost, file: Blob, fileName: string): Promise<void> {
  const body = new FormData();
  for (const [name, value] of Object.entries(form.fields)) body.append(name, value);
  body.append('file', file, fileName);
  let response: Response;
  try {
    response = await fetch(form.url, { method: 'POST', body, credentials: 'omit' });
  } catch {
    throw new Error('the upload did not reach the files bucket (network or CORS); nothing was stored');
  }
  if (!response.ok) {
    const text = await response.text();
    const message = /<Message>([^<]*)<\/Message>/.exec(text)?.[1] ?? `HTTP ${response.status}`;
    throw new Error(`the files bucket refused the upload: ${message}`);
  }
}
