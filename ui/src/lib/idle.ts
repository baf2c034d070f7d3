// Kiosk idle timeout: after `idleMs` without input the visitor is warned; unless they touch the
// screen within `graceMs`, they are signed out so the next person finds nothing of theirs.

export const ACTIVITY_EVENTS = ['pointerdown', 'keydown', 'wheel', 'touchstart'] as const;

export interface IdleCallbacks {
  /** Warn the visitor: `seconds` left before sign-out. */
  onwarn: (seconds: number) => void;
  /** Activity after a warning: hide it. */
  onactive: () => void;
  /** Time is up. */
  onexpire: () => void;
}

/** Grace period after the warning: half the idle time, between 5 and 30 seconds. */
export function graceFor(idleMs: number): number {
  return Math.min(30_000, Math.max(5_000, Math.round(idleMs / 2)));
}

export class IdleWatch {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private warned = false;
  private readonly activity = () => this.reset();

  constructor(
    private readonly idleMs: number,
    private readonly callbacks: IdleCallbacks,
    private readonly target: Pick<EventTarget, 'addEventListener' | 'removeEventListener'> = window,
  ) {}

  start(): void {
    for (const e of ACTIVITY_EVENTS) this.target.addEventListener(e, this.activity, { passive: true });
    this.reset();
  }

  stop(): void {
    for (const e of ACTIVITY_EVENTS) this.target.removeEventListener(e, this.activity);
    clearTimeout(this.timer);
  }

  /** Input happened: start counting again. */
  reset(): void {
    clearTimeout(this.timer);
    if (this.warned) {
      this.warned = false;
      this.callbacks.onactive();
    }
    this.timer = setTimeout(() => this.warn(), this.idleMs);
  }

  private warn(): void {
    this.warned = true;
    const grace = graceFor(this.idleMs);
    this.callbacks.onwarn(Math.round(grace / 1000));
    this.timer = setTimeout(() => this.callbacks.onexpire(), grace);
  }
}
