// Moving a class onto newer rules (shared/classroom/rules.ts): each laptop says which rules its
// Quorum knows; a teacher's laptop moves the class on once all know them.
import type { LogCommand } from '../../../shared/classroom/commands';
import { classRules, requireKnownRules } from '../class-rules';
import { requireTeacher, type Handler } from '../context';
import { refuse } from '../rejection';
import { statement } from '../statements';

type Command<T extends LogCommand['type']> = Extract<LogCommand, { type: T }>;

export const noteRules: Handler<Command<'noteRules'>> = ({ db, authorId }, command) => {
  const noted = statement(db, 'SELECT rules FROM member_laptops WHERE user_id = ? AND laptop_id = ?').pluck().get(authorId, command.laptopId) as
    | number
    | undefined;
  if (noted === undefined) refuse('NOT_ALLOWED', 'A member can only say which Quorum their own laptops run.');
  if (command.rules <= noted) refuse('STALE', 'The class knows this laptop runs that Quorum already.');
  statement(db, 'UPDATE member_laptops SET rules = ? WHERE user_id = ? AND laptop_id = ?').run(command.rules, authorId, command.laptopId);
};

export const adoptRules: Handler<Command<'adoptRules'>> = (context, command) => {
  requireTeacher(context);
  const { db, knownRules } = context;
  if (command.rules <= classRules(db)) refuse('STALE', 'The class uses these rules already.');
  // The one place an honest class can outgrow a laptop: it stops here until its Quorum is updated.
  requireKnownRules(command.rules, knownRules);
  statement(db, 'UPDATE class_info SET rules = ? WHERE id = 1').run(command.rules);
};
