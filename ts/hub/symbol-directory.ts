// The hub's symbol registry: names ↔ small ids for frames, and the active universe pollers walk.

/** A symbol list that could not be used. */
export class SymbolDirectoryError extends Error {
  override readonly name = 'SymbolDirectoryError';
}

/**
 * Symbol ids are positions in {@link SymbolDirectory.names}: assigned in order of first sight and
 * never changed or reused while the hub runs, so frames already in flight stay correct when the
 * universe changes. The active list (the latest universe) is what the poll cursor walks; a symbol
 * that left the universe keeps its id but is no longer polled.
 */
export class SymbolDirectory {
  readonly #names: string[] = [];
  readonly #ids = new Map<string, number>();
  #active: number[] = [];
  #version = 0;
  readonly #listeners: Array<(added: readonly string[]) => void> = [];

  constructor(initial: readonly string[] = []) {
    if (initial.length > 0) this.setActive(initial);
  }

  /**
   * Calls `listener` with the names each change registers, in id order (the hub's book extends
   * its own registry with them, so it admits exactly the symbols named here).
   */
  onAdded(listener: (added: readonly string[]) => void): void {
    this.#listeners.push(listener);
  }

  /** Every name ever registered, in id order (the list peers build their encoders from). */
  get names(): readonly string[] {
    return this.#names;
  }

  /** Ids of the current universe, in the order it was given. */
  get active(): readonly number[] {
    return this.#active;
  }

  /** Bumped on every change; peers compare it to know their list is current. */
  get version(): number {
    return this.#version;
  }

  id(name: string): number | undefined {
    return this.#ids.get(name);
  }

  name(id: number): string | undefined {
    return this.#names[id];
  }

  /**
   * Makes `names` the active universe (duplicates ignored): unknown names get the next ids.
   * Returns whether anything changed (new names or a different active list).
   */
  setActive(names: readonly string[]): boolean {
    const active: number[] = [];
    const seen = new Set<number>();
    const added: string[] = [];
    for (const name of names) {
      let id = this.#ids.get(name);
      if (id === undefined) {
        id = this.#names.length;
        this.#names.push(name);
        this.#ids.set(name, id);
        added.push(name);
      }
      if (!seen.has(id)) {
        seen.add(id);
        active.push(id);
      }
    }
    if (added.length > 0) for (const listener of this.#listeners) listener(added);
    const same =
      added.length === 0 &&
      active.length === this.#active.length &&
      active.every((id, i) => this.#active[i] === id);
    if (same) return false;
    this.#active = active;
    this.#version += 1;
    return true;
  }
}
