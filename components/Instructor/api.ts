import { ApiError, callApi as call } from '../api';
import type { GridCell, GridColumn, GridRow } from '../../server/workshops/grid';
import type { CatalogLab } from '../../server/workshops/catalog';
import type { Workshop } from '../../server/db/workshops';

// The instructor API, as the instructor pages use it.

export type { CatalogLab, GridCell, GridColumn, GridRow };

export type WorkshopSummary = Workshop & { learners: number };

export interface Grid {
  workshop: { id: string; title: string; joinCode: string; endedAt: string | null; startsAt: string | null; endsAt: string | null; labs: CatalogLab[] };
  columns: GridColumn[];
  rows: GridRow[];
}

export type GridEvent = ({ type: 'grid' } & Grid) | { type: 'row'; row: GridRow } | { type: 'rows'; rows: GridRow[] };

const base = (workshopId: string) => `/api/instructor/workshops/${workshopId}`;

export const instructorApi = {
  signIn: (name: string, password: string) => call<{ name: string; isAdmin: boolean }>('POST', '/api/instructor/login', { name, password }),
  signOut: () => call<{ signedOut: boolean }>('POST', '/api/instructor/logout'),
  // Null when nobody is signed in as an instructor.
  me: () => call<{ name: string; isAdmin: boolean }>('GET', '/api/instructor/me').catch(() => null),
  catalog: () => call<{ labs: CatalogLab[] }>('GET', '/api/instructor/catalog'),
  workshops: () => call<{ workshops: WorkshopSummary[] }>('GET', '/api/instructor/workshops'),
  create: (fields: { title: string; labs: string[]; startsAt: string | null; endsAt: string | null }) =>
    call<{ workshop: WorkshopSummary }>('POST', '/api/instructor/workshops', fields),
  sandbox: (workshopId: string, learnerId: string, labId: string, action: 'reset' | 'end') =>
    call<{ done: string }>('POST', `${base(workshopId)}/learners/${learnerId}/labs/${labId}/${action}`),
  warm: (workshopId: string, labId: string) =>
    call<{ learners: number; alreadyRunning: number; started: number; refusedForCapacity: number }>('POST', `${base(workshopId)}/labs/${labId}/warm`),
  message: (workshopId: string, text: string, learnerId: string | null) => call<unknown>('POST', `${base(workshopId)}/messages`, { text, learnerId }),
  end: (workshopId: string) => call<{ workshop: WorkshopSummary }>('POST', `${base(workshopId)}/end`),
  eventsUrl: (workshopId: string) => `${base(workshopId)}/events`,
  gradesUrl: (workshopId: string, format: 'csv' | 'json') => `${base(workshopId)}/grades.${format}`,
  terminalPath: (workshopId: string, learnerId: string, labId: string) => `${base(workshopId)}/learners/${learnerId}/labs/${labId}/tty`,
};

export { ApiError };
