/**
 * The portable form of a pin, as carried between units of work (cookie, header, job data).
 *
 * @module
 */

/** One live pin on a DB set, as carried between units of work. */
export interface PinRecord {
  /** DB set = primary alias. */
  set: string
  /** Absolute expiry, epoch milliseconds. */
  expiresAt: number
  /**
   * The set's primary replication position after the write (a PostgreSQL LSN like `'0/3000148'`
   * or a MariaDB GTID list like `'0-1-42'`), when known. Enables causal reads.
   */
  position?: string
}
