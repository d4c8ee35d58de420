/**
 * A node of a {@link WaiterQueue}. The links live in the waiter itself (an intrusive list), so
 * enqueueing allocates nothing more and a waiter that times out or aborts unlinks itself in O(1).
 */
export class QueueNode {
  /** The waiter ahead in line (`undefined` at the head or when not queued). */
  prev: this | undefined = undefined;
  /** The waiter behind in line (`undefined` at the tail or when not queued). */
  next: this | undefined = undefined;
  /** True while the node is in a queue. */
  queued = false;
}

/** A FIFO line of waiters: O(1) `push`, `shift` and `remove` of any waiter in it. */
export class WaiterQueue<N extends QueueNode> {
  #head: N | undefined = undefined;
  #tail: N | undefined = undefined;
  #size = 0;

  /** Waiters in line. */
  get size(): number {
    return this.#size;
  }

  /** The waiter first in line, if any. */
  get head(): N | undefined {
    return this.#head;
  }

  /** Puts `node` at the back of the line. It must not be queued already. */
  push(node: N): void {
    node.queued = true;
    node.prev = this.#tail;
    node.next = undefined;
    if (this.#tail) this.#tail.next = node;
    else this.#head = node;
    this.#tail = node;
    this.#size++;
  }

  /** Takes the waiter first in line off it. */
  shift(): N | undefined {
    const node = this.#head;
    if (node) this.remove(node);
    return node;
  }

  /** Takes `node` out of the line wherever it stands; false when it was not queued. */
  remove(node: N): boolean {
    if (!node.queued) return false;
    node.queued = false;
    if (node.prev) node.prev.next = node.next;
    else this.#head = node.next;
    if (node.next) node.next.prev = node.prev;
    else this.#tail = node.prev;
    node.prev = node.next = undefined;
    this.#size--;
    return true;
  }
}
