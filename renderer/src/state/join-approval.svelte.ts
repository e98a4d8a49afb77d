// "Approve each student", as a teacher manages it: turned on, each new laptop that proves the join
// code waits until a teacher lets it in (or not) from the People page. The requests come with the
// open class's overview, read again whenever the class applies something.
import type { JoinRequestView } from '../../../shared/classroom/views';
import { classroom, type SubmitOutcome } from './classroom.svelte';

export class JoinApprovalManager {
  /** Whether the open class asks a teacher about each new laptop. */
  readonly approving = $derived(classroom.current?.approveJoins ?? false);
  /** Who is waiting to be let in, oldest first. */
  readonly requests: JoinRequestView[] = $derived((classroom.current?.joinRequests ?? []).filter((request) => !request.refused));
  /** Who a teacher did not let in, whom one may still let in after all. */
  readonly refused: JoinRequestView[] = $derived((classroom.current?.joinRequests ?? []).filter((request) => request.refused));

  setApproving(approve: boolean): Promise<SubmitOutcome> {
    return classroom.submit({ type: 'setJoinApproval', approve }, approve ? 'Approve each new student' : 'Let anyone with the code in');
  }

  answer(request: JoinRequestView, approve: boolean): Promise<SubmitOutcome> {
    return classroom.submit(
      { type: 'answerJoinRequest', laptopId: request.laptopId, approve },
      approve ? `Let ${request.displayName} in` : `Refuse ${request.displayName}`,
    );
  }
}

export const joinApproval = new JoinApprovalManager();
