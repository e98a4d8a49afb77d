// The class's join code, as a teacher manages it: a new code (the old one stops working; students
// already in the class are not affected) or none (nobody new can join). The code itself is made
// here, from the browser's CSPRNG, and travels to the class in a signed command.
import { JOIN_CODE_BYTES, newJoinCode } from '../../../shared/join-code';
import { classroom, type SubmitOutcome } from './classroom.svelte';

export class JoinCodeManager {
  /** Make a new join code for the open class. */
  renew(): Promise<SubmitOutcome> {
    const code = newJoinCode(crypto.getRandomValues(new Uint8Array(JOIN_CODE_BYTES)));
    return classroom.submit({ type: 'setJoinCode', joinCode: code }, 'Make a new join code');
  }

  /** Stop anyone new from joining the open class, until a new code is made. */
  turnOff(): Promise<SubmitOutcome> {
    return classroom.submit({ type: 'setJoinCode', joinCode: null }, 'Turn joining off');
  }
}

export const joinCodes = new JoinCodeManager();
