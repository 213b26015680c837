/** A thrown value's message, whatever was thrown. */
export const errorMessage = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** A thrown value as `Name: message` (or its string form), for one-line reports. */
export const errorText = (error: unknown): string => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/** A thrown value as a structured log field: name and message, never a stack. */
export const errorFields = (error: unknown): { name: string; message: string } | string =>
  error instanceof Error ? { name: error.name, message: error.message } : String(error);

/** A thrown value's name only (for logs where even the message could carry data). */
export const errorName = (error: unknown): string => (error instanceof Error ? error.name : String(error));
