// Ids this laptop chooses for what it creates (assignments, comments): 8 to 64 of [A-Za-z0-9_-].

/** A fresh id the class accepts: a UUID, which fits the rule. */
export function newId(): string {
  return crypto.randomUUID();
}
