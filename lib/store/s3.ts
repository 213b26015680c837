import { S3Client } from '@aws-sdk/client-s3';

/**
 * The S3 client of the functions. Checksums only where S3 requires them (a presigned URL must not carry a checksum
 * of an empty body, TOOLCHAIN.md); path-style addressing for local S3 endpoints (S3_FORCE_PATH_STYLE). The endpoint
 * and credentials come from the environment (AWS_ENDPOINT_URL_S3 locally).
 */
let shared: S3Client | undefined;

export function s3Client(options: { forcePathStyle: boolean }): S3Client {
  shared ??= new S3Client({
    forcePathStyle: options.forcePathStyle,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return shared;
}
