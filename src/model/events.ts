/** A CloudEvent from the Data Mesh Manager feed, as far as this tool relies on it. */
export interface FeedEvent {
  id: string;
  type: string;
  source?: string;
  subject?: string | null;
  time?: string | null;
  /**
   * `id` is the resource the event is about: the agreement, the data product, and for
   * `OutputPort…Event` the port's data product too, with the port in `outputPortId`.
   */
  data?: { id?: string; outputPortId?: unknown; [key: string]: unknown } | null;
  /** Set when the event broke the feed's contract: why. Such an event is dead-lettered, never applied. */
  unreadable?: string;
  [key: string]: unknown;
}
