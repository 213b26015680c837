/**
 * The seller API from the browser: same origin, `Authorization: Bearer <key>`, JSON in and out. A refusal is an
 * ApiError with the API's code and message; a 401 or 403 also tells the app, which signs out and says why.
 */

export type Query = Record<string, string | number | undefined>;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface Api {
  get<T>(path: string, query?: Query): Promise<T>;
  post<T>(path: string, body?: unknown): Promise<T>;
}

/** `?a=1&b=2` of the defined values, or ''. */
export function queryString(query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) if (value !== undefined && value !== '') params.set(name, String(value));
  const text = params.toString();
  return text ? `?${text}` : '';
}

async function errorOf(response: Response): Promise<ApiError> {
  try {
    const body = (await response.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.message) return new ApiError(response.status, body.error.code ?? 'error', body.error.message);
  } catch {
    // Not the API's JSON error: say what happened.
  }
  return new ApiError(response.status, 'http_error', `the server answered ${response.status} ${response.statusText}`.trim());
}

export function createApi(key: string, onRefused: (error: ApiError) => void): Api {
  async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(path, {
        method,
        headers: { Authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        credentials: 'omit',
      });
    } catch {
      throw new ApiError(0, 'network', 'the seller API cannot be reached; check the connection and try again');
    }
    if (!response.ok) {
      const error = await errorOf(response);
      if (response.status === 401 || response.status === 403) onRefused(error);
      throw error;
    }
    return (await response.json()) as T;
  }
  return {
    get: (path, query) => call('GET', `${path}${queryString(query)}`),
    post: (path, body) => call('POST', path, body ?? {}),
  };
}
