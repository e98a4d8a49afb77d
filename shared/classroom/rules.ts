// Which rules a class is applied by. Every laptop must apply every committed command alike, down
// to the sentence a refusal records, or replicas drift apart without anyone noticing. So a build
// of Quorum that changes what applying does (a new command, a new field, a changed check or
// sentence, a new envelope) raises CLASS_RULES, keeps applying what was committed under earlier
// rules exactly as before (choosing by the class's own `rules`), and uses what is new only once
// the class has adopted the new rules. A class adopts them by a teacher's `adoptRules`, which
// a teacher's laptop proposes only when every laptop of the class has said it knows them
// (`noteRules`). A laptop still on an older build that meets a class on newer rules stops
// following the class at that entry instead of going its own way, and says it needs updating;
// updated, it carries on from there.

/** The newest class rules this build of Quorum can apply. Raise it with every change to what applying does. */
export const CLASS_RULES = 1;
