// One reusable buffer a batch of raw messages is copied into back to back, with each message's end offset, so the batch crosses to native code as two values.

/** Bytes a gather keeps once batches are small again; a larger batch's buffer lasts until then. */
const RETAINED_BYTES = 1024 * 1024;
const INITIAL_BYTES = 16 * 1024;
const INITIAL_MESSAGES = 256;
/** The largest offset an end can hold (a `Uint32Array` element). */
const MAX_BATCH_BYTES = 0xffff_ffff;

/**
 * Copies a batch of messages into one buffer (`bytes`), message `i` ending at `ends[i]`, for a
 * native call that takes the batch as `(bytes, ends, count)` (`GatheredMessages` in the core).
 * An array of N buffers costs native code a Node-API lookup and type check per message, about 900
 * instructions, more than parsing an aggTrade message; the copy costs about 25 ns a message
 * (docs/benchmarks-journal.md).
 *
 * Native calls are synchronous, so one gather serves every caller on a thread: the views stay
 * valid until the next {@link MessageGather.gather}.
 */
export class MessageGather {
  #bytes = Buffer.allocUnsafe(INITIAL_BYTES);
  #ends = new Uint32Array(INITIAL_MESSAGES);

  /** The gathered bytes of the last batch (possibly longer than the batch). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** Each message's end offset in {@link MessageGather.bytes} (possibly longer than the batch). */
  get ends(): Uint32Array {
    return this.#ends;
  }

  /**
   * Copies `messages` in, in order, and returns how many there are; a `TypeError` names the first
   * element that is not a `Uint8Array` (a `Buffer` is one), before anything is copied.
   */
  gather(messages: readonly Uint8Array[]): number {
    const count = messages.length;
    let total = 0;
    for (let i = 0; i < count; i++) {
      const message = messages[i];
      // `set` would copy nothing from an ArrayBuffer and char codes from a string: refuse both, as
      // the binding's array conversion did.
      if (!(message instanceof Uint8Array))
        throw new TypeError(`message ${i} of the batch is not a Buffer or Uint8Array`);
      total += message.length;
    }
    if (total > MAX_BATCH_BYTES)
      throw new RangeError(`a batch of ${total} bytes is past the 4 GiB a batch may hold`);
    const held = this.#bytes.length;
    if (total > held) this.#bytes = Buffer.allocUnsafe(Math.max(total, 2 * held));
    // What a huge batch needed is given back by the next batch that fits the retained size.
    else if (held > RETAINED_BYTES && total <= RETAINED_BYTES)
      this.#bytes = Buffer.allocUnsafe(RETAINED_BYTES);
    if (count > this.#ends.length) this.#ends = new Uint32Array(Math.max(count, 2 * this.#ends.length));
    const bytes = this.#bytes;
    const ends = this.#ends;
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const message = messages[i] as Uint8Array;
      bytes.set(message, offset);
      offset += message.length;
      ends[i] = offset;
    }
    return count;
  }
}

/** The gather this thread's native facades share (their calls never overlap). */
export const sharedGather = new MessageGather();
