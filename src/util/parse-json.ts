/** The value of a JSON text, or undefined when the text is not JSON (no valid text parses to undefined). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
