import type { Transaction } from './connect.ts';

/**
 * What a module keeps about each open transaction: the locks it holds, the rows it read under
 * lock, the writes it staged for one statement to make. Kept weakly, so a transaction's state
 * goes with the transaction, also when it rolls back before anything takes it.
 */
export class PerTransaction<State> {
  readonly #states = new WeakMap<Transaction, State>();
  readonly #begin: () => State;

  constructor(begin: () => State) {
    this.#begin = begin;
  }

  /** The transaction's state, begun on first use. */
  of(tx: Transaction): State {
    let state = this.#states.get(tx);
    if (state === undefined) {
      state = this.#begin();
      this.#states.set(tx, state);
    }
    return state;
  }

  /** The transaction's state, if it has begun one. */
  peek(tx: Transaction): State | undefined {
    return this.#states.get(tx);
  }

  /** The transaction's state, taken from it: the next `of` begins afresh. */
  take(tx: Transaction): State | undefined {
    const state = this.#states.get(tx);
    this.#states.delete(tx);
    return state;
  }
}
