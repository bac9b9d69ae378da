import type { WorkshopMessage } from '../db/workshops.ts';

// What a learner's page is told while they work in a workshop.
export type Notice =
  | { type: 'message'; message: WorkshopMessage }
  | { type: 'viewing'; watching: boolean }
  | { type: 'sandbox'; labId: string; action: 'reset' | 'ended' }
  | { type: 'workshop-ended' };

type Listener<T> = (value: T) => void;

// The in-process switchboard between learners and instructors: "this learner's progress or
// sandboxes changed" for the live grids, notices for the learners' pages, and who is being
// watched. Nothing here is stored: what must outlive a restart is in the database.
export class WorkshopLive {
  private readonly changeListeners = new Set<Listener<string>>();
  private readonly noticeListeners = new Map<string, Set<Listener<Notice>>>();
  private readonly viewers = new Map<string, number>();

  learnerChanged(learnerId: string) {
    for (const listener of this.changeListeners) listener(learnerId);
  }

  onLearnerChange(listener: Listener<string>) {
    this.changeListeners.add(listener);
    return () => void this.changeListeners.delete(listener);
  }

  notify(learnerId: string, notice: Notice) {
    for (const listener of this.noticeListeners.get(learnerId) ?? []) listener(notice);
  }

  onNotice(learnerId: string, listener: Listener<Notice>) {
    const listeners = this.noticeListeners.get(learnerId) ?? new Set();
    listeners.add(listener);
    this.noticeListeners.set(learnerId, listeners);
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.noticeListeners.delete(learnerId);
    };
  }

  isWatched(learnerId: string) {
    return (this.viewers.get(learnerId) ?? 0) > 0;
  }

  // An instructor opened a read-only view of one of the learner's terminals; call the result when it closes.
  startWatching(learnerId: string) {
    this.setViewers(learnerId, (this.viewers.get(learnerId) ?? 0) + 1);
    let stopped = false;
    return () => {
      if (stopped) return;
      stopped = true;
      this.setViewers(learnerId, this.viewers.get(learnerId)! - 1);
    };
  }

  private setViewers(learnerId: string, count: number) {
    const wasWatched = this.isWatched(learnerId);
    if (count > 0) this.viewers.set(learnerId, count);
    else this.viewers.delete(learnerId);
    if (wasWatched !== this.isWatched(learnerId)) this.notify(learnerId, { type: 'viewing', watching: this.isWatched(learnerId) });
  }
}
