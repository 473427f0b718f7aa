/** The caller asked for something that cannot be answered as asked; the transport maps it to BAD_USER_INPUT. */
export class InvalidInputError extends Error {
  override name = 'InvalidInputError';
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
