import { ApiError, callApi as call } from '../api';

// The lab endpoints of the server's JSON API, as the page uses them.

export interface LabSession {
  id: string;
  hosts: string[];
  createdAt: string;
}

// How the learner's last sandbox of a lab ended, when they have none now.
export interface LabEnded {
  at: string;
  reason: string;
  filesKept: boolean;
  // What the kernel held then that a new sandbox does not have, by kind.
  lostState: Record<string, string[]>;
}

export interface LabStatus {
  available: boolean;
  missingFeatures: string[];
  session: LabSession | null;
  ended: LabEnded | null;
}

export interface MemoryUse {
  usedBytes: number;
  limitBytes: number;
}

export const labApi = {
  status: (labId: string) => call<LabStatus>('GET', `/api/labs/${labId}`),
  start: (labId: string) => call<{ session: LabSession }>('POST', `/api/labs/${labId}/session`),
  reset: (labId: string) => call<{ session: LabSession }>('POST', `/api/labs/${labId}/session/reset`),
  end: (labId: string) => call<{ session: null }>('DELETE', `/api/labs/${labId}/session`),
  memory: (labId: string) => call<MemoryUse>('GET', `/api/labs/${labId}/memory`),
  filesUrl: (labId: string) => `/api/labs/${labId}/files`,
  check: <T>(labId: string, exerciseId: string, trigger: 'button' | 'live') =>
    call<T>('POST', `/api/labs/${labId}/exercises/${exerciseId}/check`, { trigger }),
  reveal: (labId: string, exerciseId: string, kind: 'hint' | 'solution') =>
    call<Record<string, string>>('POST', `/api/labs/${labId}/exercises/${exerciseId}/${kind}`),
  // Streams a trace's output to `onText` as the server prints it; resolves when the trace ends.
  trace: async (labId: string, trace: string, seconds: number, onText: (text: string) => void) => {
    const response = await fetch(`/api/labs/${labId}/trace`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ trace, seconds }),
    });
    if (!response.ok || !response.body) {
      const payload = (await response.json().catch(() => ({}))) as { error?: string };
      throw new ApiError(payload.error ?? `The server answered ${response.status}.`);
    }
    const decoder = new TextDecoder();
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) onText(decoder.decode(chunk, { stream: true }));
  },
  stopTrace: (labId: string) => call<{ stopped: boolean }>('POST', `/api/labs/${labId}/trace/stop`),
};
