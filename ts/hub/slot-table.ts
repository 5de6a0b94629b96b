// Tick-collector slots: each registered member of a group gets (k, N) and polls only in its sub-windows.

/** A member's slot: it is number `k` of `n`. */
export interface Slot {
  member: number;
  k: number;
  n: number;
}

/**
 * Members per group in registration order; a member's k is its position. When a member leaves,
 * the later members move up, so the slots stay dense (0 … N−1) and every sub-window is covered.
 * Every change returns the new slot of every member whose (k, N) changed, for the hub to push.
 */
export class SlotTable {
  readonly #groups = new Map<string, number[]>();

  /** Adds `member` to `group` (no-op when already there); returns the changed slots. */
  register(group: string, member: number): Slot[] {
    const members = this.#groups.get(group) ?? [];
    if (members.includes(member)) return [];
    const before = this.#slots(members);
    members.push(member);
    this.#groups.set(group, members);
    return this.#changed(before, members);
  }

  /** Removes `member` from `group`; returns the changed slots of the others. */
  release(group: string, member: number): Slot[] {
    const members = this.#groups.get(group);
    if (members === undefined || !members.includes(member)) return [];
    const before = this.#slots(members);
    const after = members.filter((m) => m !== member);
    if (after.length === 0) this.#groups.delete(group);
    else this.#groups.set(group, after);
    return this.#changed(before, after);
  }

  /** Removes `member` from every group; returns the changed slots per group. */
  releaseAll(member: number): Map<string, Slot[]> {
    const changes = new Map<string, Slot[]>();
    for (const group of [...this.#groups.keys()]) {
      const changed = this.release(group, member);
      if (changed.length > 0) changes.set(group, changed);
    }
    return changes;
  }

  slotOf(group: string, member: number): Slot | undefined {
    const members = this.#groups.get(group);
    const k = members?.indexOf(member) ?? -1;
    return members !== undefined && k >= 0 ? { member, k, n: members.length } : undefined;
  }

  /** The slot of `member` in every group it belongs to (for status). */
  slotsOf(member: number): Record<string, { k: number; n: number }> {
    const slots: Record<string, { k: number; n: number }> = {};
    for (const [group, members] of this.#groups) {
      const k = members.indexOf(member);
      if (k >= 0) slots[group] = { k, n: members.length };
    }
    return slots;
  }

  /** Members per group, in slot order (for status). */
  groups(): Record<string, number[]> {
    return Object.fromEntries([...this.#groups].map(([g, m]) => [g, [...m]]));
  }

  #slots(members: number[]): Map<number, string> {
    return new Map(members.map((m, k) => [m, `${k}/${members.length}`]));
  }

  #changed(before: Map<number, string>, after: number[]): Slot[] {
    return after
      .map((member, k) => ({ member, k, n: after.length }))
      .filter((slot) => before.get(slot.member) !== `${slot.k}/${slot.n}`);
  }
}
