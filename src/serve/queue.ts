/**
 * A first-in first-out queue with O(1) push, shift and unshift (an engine's waiting queue, which
 * can hold tens of thousands of requests under overload: Array.prototype.shift moves them all).
 */
export class Queue<A> {
  private items: Array<A> = []
  private head = 0

  get length(): number {
    return this.items.length - this.head
  }

  /** The first item (undefined when empty). */
  peek(): A | undefined {
    return this.items[this.head]
  }

  push(a: A): void {
    this.items.push(a)
  }

  /** Put `a` back at the front (a preempted request goes first). */
  unshift(a: A): void {
    if (this.head > 0) this.items[--this.head] = a
    else this.items.unshift(a)
  }

  shift(): A | undefined {
    if (this.head >= this.items.length) return undefined
    const a = this.items[this.head]
    this.items[this.head++] = undefined as unknown as A
    // Drop the consumed prefix once it is most of the array.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return a
  }
}
