// The lab endpoints of the server's JSON API, as the page uses them.

export interface LabSession {
  id: string;
  hosts: string[];
  createdAt: string;
}

export interface LabStatus {
  available: boolean;
  missingFeatures: string[];
  session: LabSession | null;
}

export class ApiError extends Error {}

async function call<T>(method: string, url: string, body?: unknown): Promise<T> {
  const response = await fetch(url, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const payload = (await response.json().catch(() => ({}))) as T & { error?: string };
  if (!response.ok) throw new ApiError(payload.error ?? `The server answered ${response.status}.`);
  return payload;
}

export const labApi = {
  status: (labId: string) => call<LabStatus>('GET', `/api/labs/${labId}`),
  start: (labId: string) => call<{ session: LabSession }>('POST', `/api/labs/${labId}/session`),
  reset: (labId: string) => call<{ session: LabSession }>('POST', `/api/labs/${labId}/session/reset`),
  end: (labId: string) => call<{ session: null }>('DELETE', `/api/labs/${labId}/session`),
  check: <T>(labId: string, exerciseId: string, trigger: 'button' | 'live') =>
    call<T>('POST', `/api/labs/${labId}/exercises/${exerciseId}/check`, { trigger }),
  reveal: (labId: string, exerciseId: string, kind: 'hint' | 'solution') =>
    call<Record<string, string>>('POST', `/api/labs/${labId}/exercises/${exerciseId}/${kind}`),
};
