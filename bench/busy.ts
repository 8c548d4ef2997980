// `--busy N`: the other apps of a phone or laptop, simulated. N processes that spin forever, each
// started in a session of its own (detached) as another app's process would be, so the kernel
// shares the cores between process groups the way it does on a real device; the pool then has to
// cope with a worker that may not run (issue 16). Started before the suites and stopped after,
// also when the bench exits early (an exit handler kills them).

import { spawn, type ChildProcess } from 'node:child_process';

export interface BusyProcesses {
  readonly count: number;
  stop(): void;
}

export function startBusyProcesses(count: number): BusyProcesses {
  const children: ChildProcess[] = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore', detached: true }),
  );
  for (const child of children) child.unref(); // they must never keep the bench alive
  const stop = (): void => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    process.off('exit', stop);
  };
  process.on('exit', stop);
  return { count, stop };
}
