// How the page calls the server's JSON API: errors come back as { error } with a status, and
// become an ApiError carrying the server's own sentence for the learner.

export class ApiError extends Error {
  // 429: an abuse limit refused it (the message says when to try again); the request did nothing.
  constructor(message: string, readonly status?: number) {
    super(message);
  }
}

export async function callApi<T>(method: string, url: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (!response.ok) throw new ApiError(payload.error ?? `The server answered ${response.status}.`, response.status);
  return payload;
}
