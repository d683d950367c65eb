/**
 * What the fleet simulation counts from the functions' own log lines, as they are written (the
 * same lines on-call reads): every attempt that went to the network (`mesh call`, attempt ≥ 1),
 * every (event, member) that took effect (`entitlement event applied`), and breaker transitions.
 * Read from every container at once, so nothing depends on reaching into a container's modules.
 */

/** Counts for one simulated minute of the timeline. */
export interface MinuteCounts {
  attempts: number;
  /** Attempts made while the contact-service was down. */
  downAttempts: number;
  eventsApplied: number;
  breakerOpened: number;
  breakerClosed: number;
}

const emptyMinute = (): MinuteCounts => ({ attempts: 0, downAttempts: 0, eventsApplied: 0, breakerOpened: 0, breakerClosed: 0 });

export class FleetTally {
  /** Attempts that reached for the contact-service while it was down (grant-entitlements and mesh-health). */
  downAttempts = 0;
  attempts = 0;
  /** `<eventId> <member>` → times it took effect. */
  readonly applied = new Map<string, number>();
  /** Event ids that took effect for at least one member. */
  readonly appliedEvents = new Set<string>();
  duplicates = 0;
  breakerOpened = 0;
  breakerClosed = 0;
  /** While the service is up: failed attempts and refused calls by code (e.g. `DEADLINE_EXCEEDED`, `MESH_BREAKER_OPEN`). */
  readonly failuresWhileUp = new Map<string, number>();
  lines = 0;
  #serviceDown = false;
  #minute = emptyMinute();

  /** Whether the contact-service is down from now on. */
  set serviceDown(down: boolean) {
    this.#serviceDown = down;
  }

  /** The counts since the last call, and starts a new minute. */
  takeMinute(): MinuteCounts {
    const minute = this.#minute;
    this.#minute = emptyMinute();
    return minute;
  }

  /** Reads one line; anything but the counted log lines is skipped without parsing. */
  read(line: string): void {
    this.lines++;
    if (line.includes('"mesh call"')) {
      // Attempt 0 is a call the policy refused (breaker open, …): nothing was sent. Those are
      // hundreds of thousands in today's design's outage, so they are not even parsed then.
      const refused = line.includes('"attempt":0');
      if (refused && this.#serviceDown) return;
      const doc = JSON.parse(line) as { attempt?: number; code?: string };
      if (!this.#serviceDown) this.failuresWhileUp.set(String(doc.code), (this.failuresWhileUp.get(String(doc.code)) ?? 0) + 1);
      if (refused) return;
      this.attempts++;
      this.#minute.attempts++;
      if (this.#serviceDown) {
        this.downAttempts++;
        this.#minute.downAttempts++;
      }
    } else if (line.includes('"entitlement event applied"')) {
      const doc = JSON.parse(line) as { eventId: string; applied?: string[]; duplicate?: string[] };
      const applied = doc.applied ?? [];
      if (applied.length > 0) {
        this.appliedEvents.add(doc.eventId);
        this.#minute.eventsApplied++;
      }
      for (const member of applied) {
        const key = `${doc.eventId} ${member}`;
        const times = (this.applied.get(key) ?? 0) + 1;
        this.applied.set(key, times);
        if (times > 1) this.duplicates++;
      }
    } else if (line.includes('"circuit breaker state changed"')) {
      const doc = JSON.parse(line) as { to?: string };
      if (doc.to === 'open') {
        this.breakerOpened++;
        this.#minute.breakerOpened++;
      } else if (doc.to === 'closed') {
        this.breakerClosed++;
        this.#minute.breakerClosed++;
      }
    }
  }
}
