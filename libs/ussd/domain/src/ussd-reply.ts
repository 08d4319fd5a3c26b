/**
 * What a USSD hop answers: keep the session open for input, or end it. Gateways render
 * it in their own wire format; Africa's Talking's is a `CON ` or `END ` prefix.
 */
export type UssdReply = { readonly kind: 'continue'; readonly text: string } | { readonly kind: 'end'; readonly text: string };

/** Characters that fit one USSD screen (GSM 7-bit, 182 septets). */
export const MAX_SCREEN_LENGTH = 182;

export function renderAfricasTalking(reply: UssdReply): string {
  switch (reply.kind) {
    case 'continue':
      return `CON ${reply.text}`;
    case 'end':
      return `END ${reply.text}`;
  }
}

/**
 * Africa's Talking sends every input of the session so far joined by `*`
 * (empty on the first hop); the newest input is the last part.
 */
export function latestInput(text: string): string | undefined {
  if (text === '') return undefined;
  return text.split('*').at(-1);
}
