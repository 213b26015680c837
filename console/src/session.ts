/**
 * The signed-in key: kept in sessionStorage (this tab only, gone when it closes), never in localStorage or a cookie.
 */

const STORAGE_KEY = 'koogallery.sellerKey';

export const storedKey = (): string | undefined => sessionStorage.getItem(STORAGE_KEY) ?? undefined;

export const storeKey = (secret: string): void => sessionStorage.setItem(STORAGE_KEY, secret);

export const forgetKey = (): void => sessionStorage.removeItem(STORAGE_KEY);

/** The seller API's key format (lib/seller-api/apiKeys.ts API_KEY_PATTERN). */
export const API_KEY_PATTERN = /^kgs_[A-Za-z0-9_-]{43}$/;
