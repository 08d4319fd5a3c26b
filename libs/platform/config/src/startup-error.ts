/**
 * A failure to start whose message is already the one line a person needs: what failed and
 * what to do about it. Entry points print the message as it is; anything else is a bug and
 * is printed with its stack.
 */
export class StartupError extends Error {
  override readonly name: string = 'StartupError';
}
