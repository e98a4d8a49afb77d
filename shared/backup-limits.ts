// Limits of class backups that both the peer (which enforces them) and the UI (which checks them
// first, to answer at once) need. Runs anywhere.

/** Shorter passphrases are refused: a backup carries the class's secret and every student's work. */
export const MIN_PASSPHRASE_LENGTH = 12;
/** The longest interval between automatic backups: a week. */
export const MAX_EVERY_MINUTES = 7 * 24 * 60;
/** How many automatic backups of a class a folder keeps unless told otherwise. */
export const DEFAULT_KEEP = 10;
/** The most automatic backups of a class a folder keeps. */
export const MAX_KEEP = 1000;
