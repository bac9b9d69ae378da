import { callApi as call } from '../api';

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
