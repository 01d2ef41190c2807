/** A CloudEvent from the Data Mesh Manager feed, as far as this tool relies on it. */
export interface FeedEvent {
  id: string;
  type: string;
  source?: string;
  subject?: string | null;
  time?: string | null;
  data?: { id?: string; [key: string]: unknown } | null;
  [key: string]: unknown;
}
