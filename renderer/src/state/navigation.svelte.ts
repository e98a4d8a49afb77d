// Which screen is open. Kept in memory, not in the address: the address's fragment holds the
// page's access token.
import { tick } from 'svelte';

export type Route =
  | { name: 'home' }
  | { name: 'assignment'; assignmentId: string }
  | { name: 'editAssignment'; assignmentId: string | null }
  | { name: 'grades' }
  | { name: 'people' }
  | { name: 'backups' }
  | { name: 'network' };

export class Navigation {
  route = $state<Route>({ name: 'home' });

  /** Open `route` and move keyboard focus to its heading, as a page load would. */
  go(route: Route): void {
    this.route = route;
    void tick().then(() => {
      const heading = document.querySelector<HTMLElement>('main h1');
      if (heading) {
        heading.tabIndex = -1;
        heading.focus();
      }
    });
  }

  /** Whether the open screen is one of the top-level tabs `name`. */
  isAt(name: Route['name']): boolean {
    return this.route.name === name;
  }
}

export const navigation = new Navigation();
