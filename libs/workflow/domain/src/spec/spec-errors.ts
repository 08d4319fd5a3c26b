import type { SpecError } from './spec.types.js';

/** validateWorkflowSpec returns at most this many errors, the last one saying how many were left out. */
export const MAX_SPEC_ERRORS = 100;

/** Collects errors up to a cap, so a hostile document cannot make the answer huge. */
export class SpecErrorList {
  private readonly kept: SpecError[] = [];
  private dropped = 0;

  constructor(private readonly limit: number = MAX_SPEC_ERRORS) {}

  add(error: SpecError): void {
    if (this.kept.length < this.limit) this.kept.push(error);
    else this.dropped += 1;
  }

  get isEmpty(): boolean {
    return this.kept.length === 0;
  }

  get isFull(): boolean {
    return this.kept.length >= this.limit;
  }

  /** The kept errors; past the cap, the last slot reports how many more there were. */
  toArray(): SpecError[] {
    if (this.dropped === 0) return [...this.kept];
    const shown = this.kept.slice(0, this.limit - 1);
    const hidden = this.kept.length - shown.length + this.dropped;
    return [...shown, { pointer: '', code: 'too-many-errors', message: `${hidden} more errors not shown (at most ${this.limit} are returned)` }];
  }
}
