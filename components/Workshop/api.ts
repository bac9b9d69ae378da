import { callApi as call } from '../api';

// The learner's side of the workshop API, as the pages use it.

export interface WorkshopMessage {
  id: number;
  text: string;
  learnerId: string | null;
  sentAt: string;
}

export interface LearnersWorkshop {
  workshop: { id: string; title: string; endsAt: string | null; labs: { id: string; title: string; chapter: { slug: string; part: number; title: string } }[] } | null;
  displayName?: string;
  resumePath?: string;
  messages?: WorkshopMessage[];
}

export type Notice =
  | { type: 'message'; message: WorkshopMessage }
  | { type: 'viewing'; watching: boolean }
  | { type: 'sandbox'; labId: string; action: 'reset' | 'ended' }
  | { type: 'workshop-ended' }
  | { type: 'ping' };

export const workshopApi = {
  mine: () => call<LearnersWorkshop>('GET', '/api/workshop'),
  lookUp: (code: string) => call<{ title: string; code: string; endsAt: string | null; joinedAs: string | null }>('GET', `/api/join/${encodeURIComponent(code)}`),
  join: (code: string, name: string) => call<LearnersWorkshop>('POST', `/api/join/${encodeURIComponent(code)}`, { name }),
  resume: (token: string) => call<LearnersWorkshop>('POST', '/api/resume', { token }),
};
