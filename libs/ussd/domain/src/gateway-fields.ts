import type { UssdRequestProblem } from './gateway.js';

/**
 * Field checks shared by the gateway adapters. Every reader takes an untrusted, already-decoded
 * body and reports problems instead of throwing; none copies a field it was not asked for.
 */

/** `UssdHop.sessionId`: 1 to 255 characters, no control characters. */
export const MAX_SESSION_ID_LENGTH = 255;
/** A subscriber's number as a gateway sends it (before E.164 normalisation). */
export const MAX_PHONE_NUMBER_LENGTH = 32;
/** A subscriber's input (Africa's Talking: every input of the session so far). */
export const MAX_TEXT_LENGTH = 1_000;
/** Network code, operator name, gateway status and similar short labels. */
export const MAX_LABEL_LENGTH = 64;
/** A gateway's error message kept in `UssdSessionEnded.detail`. */
export const MAX_DETAIL_LENGTH = 500;

/** The canonical service code pattern (docs/workflow-spec.md, `ussd` trigger). */
export const SERVICE_CODE_PATTERN = /^\*[0-9]{1,6}(\*[0-9]{1,6}){0,7}#$/;

// Any C0/C1 control character, DEL included.
const CONTROL = /\p{Cc}/u;
const PHONE_CHARACTERS = /^[+0-9 ().-]+$/;

/** A plain object's own data properties, read without invoking getters or trusting its prototype. */
export type Fields = { readonly get: (name: string) => unknown; readonly has: (name: string) => boolean };

/**
 * Accepts only plain objects (prototype `Object.prototype` or null, as JSON and form decoders
 * produce); null, arrays, strings and class instances are refused. Reads own data properties
 * only, so `__proto__`, `constructor` and friends are never followed or copied.
 */
export function plainFields(body: unknown): Fields | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return null;
  if (!isPlainPrototype(Object.getPrototypeOf(body) as object | null)) return null;
  const own = (name: string): PropertyDescriptor | undefined => Object.getOwnPropertyDescriptor(body, name);
  return {
    get: (name) => {
      const descriptor = own(name);
      return descriptor !== undefined && 'value' in descriptor ? descriptor.value : undefined;
    },
    has: (name) => {
      const descriptor = own(name);
      return descriptor !== undefined && 'value' in descriptor && descriptor.value !== undefined;
    },
  };
}

/**
 * `Object.prototype`, null, or an empty object with a null prototype: fast-querystring (the form
 * decoder of Fastify and Nest) builds its results with `new Empty()`, `Empty.prototype` being
 * `Object.create(null)`.
 */
function isPlainPrototype(prototype: object | null): boolean {
  if (prototype === null || prototype === Object.prototype) return true;
  return Object.getPrototypeOf(prototype) === null && Reflect.ownKeys(prototype).length === 0;
}

export const NOT_AN_OBJECT: UssdRequestProblem = { field: '', message: 'the request body must be an object of fields' };

/** Shortens a hostile value before it is quoted in a problem message. */
export function quote(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

/** Collects problems and reads fields by their rules. */
export class FieldReader {
  readonly problems: UssdRequestProblem[] = [];

  constructor(private readonly fields: Fields) {}

  has(name: string): boolean {
    return this.fields.has(name);
  }

  /** The field's value as sent, for the caller's own checks (numbers, say). */
  raw(name: string): unknown {
    return this.fields.get(name);
  }

  problem(field: string, message: string): void {
    this.problems.push({ field, message });
  }

  /** A required string field; `allowEmpty` for fields that are legitimately empty (AT's first `text`). */
  string(name: string, rules: { readonly maxLength: number; readonly allowEmpty?: boolean }): string | null {
    const value = this.fields.get(name);
    if (value === undefined || value === null) {
      this.problem(name, 'is required');
      return null;
    }
    return this.check(name, value, rules);
  }

  /** An optional string field: absent, null or empty give null. */
  optionalString(name: string, maxLength: number): string | null {
    const value = this.fields.get(name);
    if (value === undefined || value === null || value === '') return null;
    return this.check(name, value, { maxLength });
  }

  sessionId(name: string): string | null {
    return this.string(name, { maxLength: MAX_SESSION_ID_LENGTH });
  }

  phoneNumber(name: string): string | null {
    const value = this.string(name, { maxLength: MAX_PHONE_NUMBER_LENGTH });
    if (value === null) return null;
    if (!PHONE_CHARACTERS.test(value)) {
      this.problem(name, 'may hold only digits, "+", spaces, dots, dashes and parentheses');
      return null;
    }
    return value;
  }

  /** A service code, canonicalised (see `canonicalServiceCode`). */
  serviceCode(name: string): string | null {
    const value = this.string(name, { maxLength: 64 });
    if (value === null) return null;
    const canonical = canonicalServiceCode(value);
    if (canonical === null) {
      this.problem(name, `must be a USSD code like "*384*123#", got ${quote(value)}`);
      return null;
    }
    return canonical;
  }

  private check(name: string, value: unknown, rules: { readonly maxLength: number; readonly allowEmpty?: boolean }): string | null {
    if (typeof value !== 'string') {
      this.problem(name, `must be a string, got ${Array.isArray(value) ? 'an array' : typeof value}`);
      return null;
    }
    if (value === '' && rules.allowEmpty !== true) {
      this.problem(name, 'must not be empty');
      return null;
    }
    if (value.length > rules.maxLength) {
      this.problem(name, `must be at most ${rules.maxLength} characters, got ${value.length}`);
      return null;
    }
    if (CONTROL.test(value)) {
      this.problem(name, 'must not contain control characters');
      return null;
    }
    return value;
  }
}

/**
 * Service codes arrive in more than one shape: Africa's Talking sends `*384*123#`, Hubtel's
 * USSD sessions send `713` or `711*2` (no leading `*`, no `#`). Codes are compared with the
 * workflow triggers' `serviceCode`, so each is brought to the canonical form of
 * docs/workflow-spec.md: surrounding spaces trimmed, a missing leading `*` and a missing trailing
 * `#` added. Anything else (letters, `**`, a `#` in the middle, more than 8 groups or groups
 * longer than 6 digits) is refused: null.
 */
export function canonicalServiceCode(raw: string): string | null {
  const trimmed = raw.trim();
  if (trimmed === '') return null;
  const withStar = trimmed.startsWith('*') ? trimmed : `*${trimmed}`;
  const canonical = withStar.endsWith('#') ? withStar : `${withStar}#`;
  return SERVICE_CODE_PATTERN.test(canonical) ? canonical : null;
}
