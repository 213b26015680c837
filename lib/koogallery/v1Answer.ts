import type { AppInfo } from '#lib/instances/model.ts';
import { encryptV1Field, type EncryptType } from './fieldCrypto.ts';
import type { Answer } from './resultCodes.ts';

/**
 * A V1 answer (spec §6, §7.6): appInfo's userName and password travel as `iv + base64(AES-CBC)` under a key
 * derived from the access key, and the answer says which AES size in `encryptType`.
 */
export function v1Answer(given: Answer, accessKey: string, encryptType: EncryptType): Answer {
  const encrypt = (appInfo: AppInfo): AppInfo => {
    const out: AppInfo = { ...appInfo };
    if (out.userName) out.userName = encryptV1Field(accessKey, out.userName, encryptType);
    if (out.password) out.password = encryptV1Field(accessKey, out.password, encryptType);
    return out;
  };
  const info = Array.isArray(given.info) ? (given.info as { instanceId: string; appInfo?: AppInfo }[]) : undefined;
  const appInfo = given.appInfo as AppInfo | undefined;
  if (!appInfo && !info?.some((i) => i.appInfo)) return given;
  return {
    ...given,
    encryptType,
    ...(appInfo ? { appInfo: encrypt(appInfo) } : {}),
    ...(info ? { info: info.map((i) => (i.appInfo ? { ...i, appInfo: encrypt(i.appInfo) } : i)) } : {}),
  };
}
