// Who a signing key acts as in a class. A user's id is the one their key gives, except after a
// re-admission: the new laptop's key then acts as the student it was vouched for, and the key it
// replaced (the lost laptop's, perhaps in someone else's hands) acts as nobody. Every place that
// turns a signature into a member goes through here, so the rules, the views and the log agree.
import type Database from 'better-sqlite3';
import { memberOf } from './context';
import { statement } from './statements';

export interface Signer {
  /** The member the key acts as (or would, were it in the class): the key's own user id unless it was vouched for as another. */
  userId: string;
  /** The key is no longer that member's: a teacher re-admitted them with another. Nothing it signs is accepted. */
  replaced: boolean;
}

/** Who the key `publicKey`, whose own user id is `keyUserId`, signs as in this class file. */
export function signerOf(db: Database.Database, keyUserId: string, publicKey: string): Signer {
  const vouched = statement(db, 'SELECT user_id FROM readmissions WHERE key_user_id = ?').pluck().get(keyUserId) as string | undefined;
  const userId = vouched ?? keyUserId;
  const member = memberOf(db, userId);
  // A member's row holds the one key that signs for them now.
  return { userId, replaced: member !== undefined && member.public_key !== publicKey };
}
