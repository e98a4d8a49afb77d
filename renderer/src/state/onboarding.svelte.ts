// The first steps on a laptop: a teacher creates a class and shows its join code; a student joins
// with that code and watches this laptop find the class, be admitted and be registered. Also the
// manual way in where the network blocks discovery: another laptop's address.
import { explainError } from '../lib/errors';
import { session } from './session.svelte';

export class OnboardingManager {
  /** Which form the welcome screen shows. */
  mode = $state<'choose' | 'teach' | 'join'>('choose');
  /** A class just created here: its join code stays on screen until the teacher continues. */
  created = $state<{ classId: string; joinCode: string; name: string } | null>(null);
  /** Setting up another class while already in one. */
  addingClass = $state(false);
  busy = $state(false);
  problem = $state<string | null>(null);
  /** While the class's teacher approves each student: the name this laptop asked as, until let in (or not). */
  waitingAs = $state<string | null>(null);
  private followingJoins = false;

  choose(mode: 'choose' | 'teach' | 'join'): void {
    this.mode = mode;
    this.problem = null;
  }

  async createClass(fields: { name: string; subject: string; displayName: string }): Promise<void> {
    await this.run(async () => {
      const { classId, joinCode } = await session.client.methods.createClass(fields);
      this.created = { classId, joinCode, name: fields.name };
      await session.refreshStatus();
      session.selectClass(classId);
    });
  }

  async joinClass(fields: { joinCode: string; displayName: string }): Promise<void> {
    this.followJoins();
    await this.run(async () => {
      const { classId } = await session.client.methods.joinClass(fields);
      await session.refreshStatus();
      session.selectClass(classId);
      this.addingClass = false;
      this.mode = 'choose';
    });
  }

  /** Stop asking to join (while waiting for the teacher): the join ends with a sentence saying so. */
  async cancelJoin(): Promise<void> {
    try {
      await session.client.methods.cancelJoin({});
    } catch (error) {
      this.problem = explainError(error);
    }
  }

  /** Follow the peer's word on a join under way: told to wait for the teacher, or over. Idempotent. */
  private followJoins(): void {
    if (this.followingJoins || !session.ready) return;
    this.followingJoins = true;
    session.client.on('joining', (progress) => {
      this.waitingAs = progress.state === 'waiting' ? progress.displayName : null;
    });
  }

  /** Add another laptop by its address; resolves with a sentence when that failed, else null. */
  async addLaptop(address: string): Promise<string | null> {
    try {
      await session.client.methods.addPeerAddress({ address: address.trim() });
      return null;
    } catch (error) {
      return explainError(error);
    }
  }

  /** Leave the join code screen (or the set-up of another class) for the class itself. */
  finish(): void {
    this.created = null;
    this.addingClass = false;
    this.mode = 'choose';
  }

  startAnotherClass(): void {
    this.addingClass = true;
    this.mode = 'choose';
    this.problem = null;
  }

  private async run(action: () => Promise<void>): Promise<void> {
    this.busy = true;
    this.problem = null;
    try {
      await action();
    } catch (error) {
      this.problem = explainError(error);
    } finally {
      this.busy = false;
    }
  }
}

export const onboarding = new OnboardingManager();
