import type { Clock } from '../../src/app/ports.ts';

/** A clock tests move by hand: expiry and presigned URLs are tested without sleeping. */
export class ManualClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(ms: number): void {
    this.offsetMs += ms;
  }
}
