import { describe, expect, it } from 'vitest';
import { stageSettings } from '../../scripts/operator/settings.ts';

/** What `koogallery --stage` says when the AWS credentials it is given do not work. */

const noCredentials = async () => {
  throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
};

describe('koogallery --stage without working AWS credentials', () => {
  it('names the profile that gave none, when AWS_PROFILE is set', async () => {
    await expect(stageSettings('prod', 'ap-southeast-1', noCredentials, { AWS_PROFILE: 'koogallery-admin' })).rejects.toThrow(
      'the AWS profile "koogallery-admin" (AWS_PROFILE) gives no credentials to read koogallery-isv-prod: check it in ~/.aws/config, or run `aws sso login --profile koogallery-admin`',
    );
  });

  it('says how to give credentials, when none is set', async () => {
    await expect(stageSettings('prod', 'ap-southeast-1', noCredentials, {})).rejects.toThrow(
      /^no AWS credentials to read koogallery-isv-prod: set AWS_PROFILE/,
    );
  });
});
