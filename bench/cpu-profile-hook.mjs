// Loaded with NODE_OPTIONS=--import (which refuses --cpu-prof): profiles this process from start
// to exit like --cpu-prof, into $QUORUM_CPU_PROFILE_DIR/<pid>.cpuprofile. Used by bench/peer.ts.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';

const dir = process.env.QUORUM_CPU_PROFILE_DIR;
if (dir) {
  const session = new Session();
  session.connect();
  session.post('Profiler.enable');
  session.post('Profiler.setSamplingInterval', { interval: 1000 });
  session.post('Profiler.start');
  // An in-thread session answers synchronously, so this works in an 'exit' handler. Not after kill -9.
  process.on('exit', () => {
    session.post('Profiler.stop', (error, result) => {
      if (!error) writeFileSync(join(dir, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
    });
  });
}
