// Autosave for forms: saves the answers shortly after the person stops typing, never the same
// answers twice, and at once when the screen closes, so a crash loses at most the last second.

export type Answers = Record<string, unknown>;

export class DraftSaver {
  private last = '';
  private pending: Answers | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(
    private readonly save: (data: Answers) => Promise<void>,
    private readonly delayMs: number,
  ) {}

  /** The answers the form starts with: not saved again unless they change. */
  start(initial: unknown): void {
    this.last = stable(initial);
  }

  /** The form changed; save soon if the answers really differ from the last saved ones. */
  changed(data: Answers): void {
    if (this.stopped || stable(data) === this.last) return;
    this.pending = structuredClone(data);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), this.delayMs);
  }

  /** Save now what is waiting (the screen is closing). */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const data = this.pending;
    this.pending = null;
    if (!data || this.stopped) return;
    const text = stable(data);
    if (text === this.last) return;
    this.last = text;
    void this.save(data);
  }

  /** Save again after a `cancel` (submitting failed: the person goes on typing). */
  resume(): void {
    this.stopped = false;
  }

  /** Stop saving (submitted or discarded): nothing waiting is saved. */
  cancel(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }
}

/** JSON with sorted keys, so the same answers in another order compare equal. */
function stable(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );
}
