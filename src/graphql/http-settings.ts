/** The HTTP listener's timeouts (config: KEYWARDEN_HTTP_*; see src/config.ts for the checks between them). */
export interface HttpSettings {
  /** An idle keep-alive connection is closed after this. Above every common load balancer's idle timeout (ALB 60 s). */
  keepAliveTimeoutMs: number;
  /** A request's headers must arrive within this; above keepAliveTimeoutMs (Node's own advice, and the ALB 502 folklore's fix). */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this: one slow client cannot hold a connection for ever. At least headersTimeoutMs (Node refuses less). */
  requestTimeoutMs: number;
  /** On shutdown, in-flight requests get this long before their connections are closed. */
  shutdownGraceMs: number;
}

export const DEFAULT_HTTP_SETTINGS: HttpSettings = {
  keepAliveTimeoutMs: 65_000,
  headersTimeoutMs: 66_000,
  requestTimeoutMs: 90_000,
  shutdownGraceMs: 10_000,
};
