import { jsonBytes } from './json.js';

export const DEFAULT_OUTPUT_CAP_BYTES = 16 * 1024;

export interface CappedValue {
  readonly value: unknown;
  /** Present when the value was replaced; what the logs record about the cut. */
  readonly truncated?: { readonly originalBytes: number; readonly capBytes: number };
}

/**
 * Bounds what goes into the logs (events), never what the workflow sees: `nodes.<id>` keeps
 * the whole value. A value over the cap is replaced by a marker object with a prefix of its
 * JSON text, still valid JSON for the JSONB column, and no larger than the cap (a cap smaller than the
 * bare marker gets the bare marker).
 */
export function capValue(value: unknown, capBytes: number): CappedValue {
  const originalBytes = jsonBytes(value);
  if (originalBytes <= capBytes) return { value };
  const marker = { $truncated: true, originalBytes, capBytes, preview: '' };
  const room = capBytes - jsonBytes(marker);
  if (room > 0) marker.preview = previewOf(JSON.stringify(value), room);
  return { value: marker, truncated: { originalBytes, capBytes } };
}

/** The longest prefix of `text` whose JSON-escaped form fits in `room` bytes. */
function previewOf(text: string, room: number): string {
  // Escaping can at most sextuple a character (\u001f), so start optimistic and shrink.
  let length = Math.min(text.length, room);
  while (length > 0) {
    let candidate = text.slice(0, length);
    // Do not leave half of a surrogate pair at the end.
    if (/[\uD800-\uDBFF]$/.test(candidate)) candidate = candidate.slice(0, -1);
    const bytes = jsonBytes(candidate) - 2;
    if (bytes <= room) return candidate;
    length = Math.floor(length * Math.max(0.5, room / bytes)) - 1;
  }
  return '';
}
